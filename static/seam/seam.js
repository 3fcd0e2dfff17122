/*! seam.js 0.1.0: Seam's first-party tracking snippet. Dependency-free ES2017; see static/seam/README.md. */
(function (w, d) {
  "use strict";
  var stub = w.seam;
  if (stub && stub.loaded) return;

  var VERSION = "0.1.0";
  // The official SDK's names, so a site switching between the two keeps its visitors' ids.
  var AID = "ajs_anonymous_id";
  var UID = "ajs_user_id";
  var TRAITS = "ajs_user_traits";
  var QUEUE = "seam_queue";
  var HASH = "seam_user_hash"; // identity verification: the site backend's HMAC of the user id
  var LINK_PARAM = "seam_aid";
  var YEAR_SECONDS = 31536000;
  var MAX_BATCH = 100;
  var MAX_BATCH_CHARS = 400000; // under ingest's 500 KB per batch
  var MAX_KEEPALIVE_CHARS = 60000; // browsers refuse keepalive fetches and beacons over 64 KB
  var MAX_QUEUE = 1000;
  var MAX_BACKOFF_MS = 60000;

  var opts = Object.assign({ flushInterval: 1000, page: true, linkDomains: [] }, stub && stub._options);
  var writeKey = (stub && stub._writeKey) || opts.writeKey;
  var script = d.currentScript;
  var apiHost = (opts.apiHost || (script && script.src ? new URL(script.src).origin : location.origin)).replace(
    /\/+$/,
    ""
  );
  // granted: ids and queue live in cookie + localStorage. pending: nothing is written, events wait in
  // `held`. denied: nothing is kept or sent.
  var consentState = opts.consent === "wait" ? "pending" : "granted";
  var mem = {}; // what would have been written, while consent is pending
  var held = [];
  var memQueue = null; // the queue, once localStorage has failed us (private mode, quota)
  var inflight = {};
  var timer = 0;
  var fails = 0;
  var lastPage = null;
  var here = location.href;
  var referrer = d.referrer;

  // --- storage -----------------------------------------------------------------------------------
  function writable() {
    return consentState === "granted";
  }
  function lsGet(key) {
    try {
      return w.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }
  function lsSet(key, value) {
    try {
      if (value == null) w.localStorage.removeItem(key);
      else w.localStorage.setItem(key, value);
      return true;
    } catch (e) {
      return false;
    }
  }
  function cookieGet(name) {
    var match = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    try {
      return match ? decodeURIComponent(match[1]) : null;
    } catch (e) {
      return match[1];
    }
  }
  function cookieSet(name, value) {
    var cookie = name + "=" + (value == null ? "; max-age=0" : encodeURIComponent(value) + "; max-age=" + YEAR_SECONDS);
    cookie += "; path=/; SameSite=Lax";
    if (opts.cookieDomain) cookie += "; domain=" + opts.cookieDomain;
    if (location.protocol === "https:") cookie += "; Secure";
    d.cookie = cookie;
  }
  // The official SDK keeps ids as JSON strings in localStorage (and sometimes in cookies).
  function unquote(value) {
    if (value && value.charAt(0) === '"') {
      try {
        return JSON.parse(value);
      } catch (e) {
        /* not JSON after all */
      }
    }
    return value || null;
  }
  function parse(value) {
    try {
      return JSON.parse(value);
    } catch (e) {
      return null;
    }
  }

  // Read on every call: another tab, the server or the official SDK may have changed them.
  function get(key) {
    if (!writable() && key in mem) return mem[key];
    if (key === TRAITS) return parse(lsGet(TRAITS)) || {};
    if (key === HASH) return parse(lsGet(HASH));
    var fromCookie = unquote(cookieGet(key));
    var fromStorage = unquote(lsGet(key));
    var value = fromCookie || fromStorage;
    // The cookie wins (it spans subdomains); either copy restores the other.
    if (value && writable() && (value !== fromCookie || value !== fromStorage)) put(key, value);
    return value;
  }
  function put(key, value) {
    if (!writable()) {
      mem[key] = value;
      return;
    }
    if (key !== TRAITS && key !== HASH) cookieSet(key, value);
    lsSet(key, value == null ? null : JSON.stringify(value));
  }
  function anonymousId() {
    var id = get(AID);
    if (!id) put(AID, (id = uuid()));
    return id;
  }
  function uuid() {
    var bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.from(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- messages ----------------------------------------------------------------------------------
  function pageInfo() {
    if (location.href !== here) {
      referrer = here; // an SPA navigation: the previous view is the referrer
      here = location.href;
    }
    return { path: location.pathname, referrer: referrer, search: location.search, title: d.title, url: here };
  }
  function context() {
    var ctx = {
      page: pageInfo(),
      userAgent: navigator.userAgent,
      locale: navigator.language,
      library: { name: "seam.js", version: VERSION },
    };
    var campaign = {};
    new URLSearchParams(location.search).forEach(function (value, key) {
      var match = /^utm_(.+)$/.exec(key);
      if (match) campaign[match[1] === "campaign" ? "name" : match[1]] = value;
    });
    if (Object.keys(campaign).length) ctx.campaign = campaign;
    return ctx;
  }
  function send(type, fields) {
    if (consentState === "denied") return;
    var message = Object.assign(
      {
        type: type,
        messageId: uuid(),
        anonymousId: anonymousId(),
        timestamp: new Date().toISOString(),
        context: context(),
        integrations: {},
      },
      fields
    );
    var userId = get(UID);
    if (userId) message.userId = userId;
    var hash = get(HASH);
    if (hash) message.context.seam = { user_hash: hash };
    if (consentState === "pending") held.push(message);
    else enqueue([message]);
  }

  // --- delivery: a localStorage queue, batches to /v1/b, backoff, a beacon on the way out ----------
  function queueRead() {
    if (memQueue) return memQueue;
    var queue = parse(lsGet(QUEUE));
    return Array.isArray(queue) ? queue : [];
  }
  function queueWrite(queue) {
    if (memQueue || !lsSet(QUEUE, JSON.stringify(queue))) memQueue = queue;
  }
  // Read-modify-write in one task, by messageId, so tabs sharing the queue do not undo each other.
  function enqueue(messages) {
    queueWrite(queueRead().concat(messages).slice(-MAX_QUEUE));
    schedule(opts.flushInterval);
  }
  function dequeue(messages) {
    var sent = {};
    messages.forEach(function (m) {
      sent[m.messageId] = 1;
    });
    queueWrite(
      queueRead().filter(function (m) {
        return !sent[m.messageId];
      })
    );
  }
  function schedule(ms) {
    if (!timer) timer = setTimeout(flush, ms);
  }
  function take(maxChars, withInflight) {
    var batch = [];
    var size = 0;
    queueRead().some(function (m) {
      if (inflight[m.messageId] && !withInflight) return false;
      var n = JSON.stringify(m).length;
      if (batch.length && (size + n > maxChars || batch.length >= MAX_BATCH)) return true;
      batch.push(m);
      size += n;
      return false;
    });
    return batch;
  }
  function payload(batch) {
    return JSON.stringify({ batch: batch, writeKey: writeKey, sentAt: new Date().toISOString() });
  }
  async function flush() {
    clearTimeout(timer);
    timer = 0;
    if (!writable()) return;
    var batch = take(MAX_BATCH_CHARS, false);
    if (!batch.length) return;
    var done;
    batch.forEach(function (m) {
      inflight[m.messageId] = 1;
    });
    try {
      var body = payload(batch);
      var response = await fetch(apiHost + "/v1/b", {
        method: "POST",
        headers: { "Content-Type": "text/plain" }, // a simple request: no CORS preflight
        body: body,
        credentials: "omit",
        keepalive: body.length < MAX_KEEPALIVE_CHARS, // lets a send outlive a navigation
      });
      // Other 4xx (bad key, origin not allowed) will not get better by retrying.
      done = response.status < 500 && response.status !== 429;
    } catch (e) {
      done = false; // the network failed
    }
    batch.forEach(function (m) {
      delete inflight[m.messageId];
    });
    if (done) {
      fails = 0;
      dequeue(batch);
      if (take(MAX_BATCH_CHARS, false).length) schedule(0);
    } else {
      fails += 1;
      // Exponential with jitter; the messageIds stay the same, so a retry that did arrive is de-duplicated.
      schedule(Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, fails - 1)) * (0.5 + Math.random() / 2));
    }
  }
  function beacon() {
    if (!writable() || !navigator.sendBeacon || navigator.onLine === false) return;
    // In-flight messages too: their fetch may be cancelled with the page (repeats are de-duplicated).
    var batch = take(MAX_KEEPALIVE_CHARS, true);
    if (batch.length && navigator.sendBeacon(apiHost + "/v1/b", payload(batch))) dequeue(batch);
  }
  function retryNow() {
    if (fails) {
      clearTimeout(timer);
      timer = 0;
      flush();
    }
  }

  // --- the API -----------------------------------------------------------------------------------
  function page(name, properties) {
    if (name && typeof name === "object") {
      properties = name;
      name = undefined;
    }
    var url = location.href.split("#")[0];
    if (url === lastPage) return; // never the same URL twice in a row
    lastPage = url;
    var fields = { properties: Object.assign(pageInfo(), properties) };
    if (name) fields.name = name;
    send("page", fields);
  }
  function track(event, properties) {
    send("track", { event: event, properties: properties || {} });
  }
  // options.userHash: HMAC-SHA256 of the user id (or of the email, with none) from the site's backend.
  function identify(userId, traits, options) {
    if (userId && typeof userId === "object") {
      options = traits;
      traits = userId;
      userId = null;
    }
    if (consentState === "denied") return;
    if (userId != null && userId !== "") {
      userId = String(userId);
      var previous = get(UID);
      if (previous && previous !== userId) {
        // Someone else on this device: their anonymous history is not this user's.
        put(AID, uuid());
        put(TRAITS, null);
      }
      if (previous !== userId) put(HASH, null);
      put(UID, userId);
    }
    if (options && options.userHash) put(HASH, String(options.userHash));
    var merged = Object.assign({}, get(TRAITS), traits);
    put(TRAITS, merged);
    send("identify", { traits: merged });
  }
  function reset() {
    if (consentState === "denied") return;
    put(UID, null);
    put(TRAITS, null);
    put(HASH, null);
    put(AID, uuid());
  }
  function consent(granted) {
    if (granted) {
      if (consentState === "granted") return;
      consentState = "granted";
      Object.keys(mem).forEach(function (key) {
        put(key, mem[key]);
      });
      mem = {};
      var waiting = held;
      held = [];
      enqueue(waiting);
    } else {
      // Denied (or withdrawn): drop what waits and forget this visitor.
      consentState = "denied";
      held = [];
      mem = {};
      memQueue = null;
      clearTimeout(timer);
      timer = 0;
      [AID, UID].forEach(function (key) {
        cookieSet(key, null);
      });
      [AID, UID, TRAITS, QUEUE, HASH].forEach(function (key) {
        lsSet(key, null);
      });
    }
  }
  // Links to the configured domains (a hosted checkout, say) carry the anonymous id along.
  function decorate(event) {
    if (!writable() || !opts.linkDomains.length) return;
    var link = event.target && event.target.closest && event.target.closest("a[href]");
    if (!link) return;
    var url = new URL(link.href, location.href);
    var host = url.hostname;
    if (host === location.hostname || !/^https?:$/.test(url.protocol)) return;
    var listed = opts.linkDomains.some(function (domain) {
      return host === domain || host.slice(-domain.length - 1) === "." + domain;
    });
    if (!listed) return;
    url.searchParams.set(LINK_PARAM, anonymousId());
    link.href = url.href;
  }
  // Arriving through such a link: adopt the id, and take it out of the address bar.
  function adopt() {
    var url = new URL(location.href);
    var id = url.searchParams.get(LINK_PARAM);
    if (id == null) return;
    if (/^[\w-]{1,100}$/.test(id)) put(AID, id);
    url.searchParams.delete(LINK_PARAM);
    history.replaceState(history.state, "", url.href);
    here = location.href;
  }
  function onNavigate() {
    setTimeout(function () {
      if (opts.page) page();
    }, 0); // after the app has had its chance to set the title
  }

  var api = {
    loaded: true,
    VERSION: VERSION,
    page: page,
    track: track,
    identify: identify,
    reset: reset,
    consent: consent,
    anonymousId: function () {
      return consentState === "denied" ? null : anonymousId();
    },
    userId: function () {
      return get(UID);
    },
    flush: flush,
    push: function (call) {
      api[call[0]].apply(api, call.slice(1));
    },
  };

  var calls = Array.isArray(stub) ? stub.slice() : [];
  w.seam = api;
  adopt();
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      onNavigate();
      return result;
    };
  });
  w.addEventListener("popstate", onNavigate);
  w.addEventListener("pagehide", beacon);
  d.addEventListener("visibilitychange", function () {
    if (d.visibilityState === "hidden") beacon();
  });
  w.addEventListener("online", retryNow);
  d.addEventListener("click", decorate, true);
  d.addEventListener("auxclick", decorate, true);
  if (writable() && queueRead().length) schedule(0); // left over from an earlier page
  var explicitPage = calls.some(function (call) {
    return call[0] === "page";
  });
  if (opts.page && !explicitPage) page();
  calls.forEach(api.push);
})(window, document);
