"""Customer.io Track API hosts per region (only the subdomain differs; see customerio-api.md)."""

DEFAULT_TRACK_URLS = {
    "us": "https://track.customer.io",
    "eu": "https://track-eu.customer.io",
}
