"""The demo workspace's fixed write keys: public by design, for `make run` only (seed_demo refuses DEBUG off)."""

from workspaces.models import Source

DEMO_WORKSPACE = "Demo store"
DEMO_KEYS = {Source.Kind.BROWSER: "pk_demo_browser_write_key", Source.Kind.SERVER: "sk_demo_server_write_key"}
