// Offline use of Aware, for a signed-in learner (loaded by base.html):
// - registers the service worker Workbox built (/service-worker.js), and asks it to keep the
//   lessons of the module being read, and the files they use, so that they open without a signal;
// - "Complete" pressed offline, and quiz answers saved or submitted offline, are kept on this
//   phone (localStorage) and sent when the signal returns; the server decides as it always does
//   (one row per learner and lesson; the attempt's deadline) and says what became of each;
// - signing out, or someone else signing in on this device, deletes all of it.
// Without JavaScript, or a browser without service workers, the pages work as before, online.
(function () {
  "use strict";
  var script = document.currentScript;
  var user = script.getAttribute("data-user");
  var QUEUE = "aware-offline-queue";
  var OWNER = "aware-offline-owner";
  var DRAFT = "aware-offline-quiz-";
  var status = document.querySelector("[data-offline-status]");

  function read(key, fallback) {
    try {
      return JSON.parse(window.localStorage.getItem(key)) || fallback;
    } catch (error) {
      return fallback;
    }
  }

  function write(key, value) {
    window.localStorage.setItem(key, JSON.stringify(value));
  }

  function queued() {
    return read(QUEUE, []).filter(function (item) { return item.user === user; });
  }

  function queueRemove(id) {
    write(QUEUE, read(QUEUE, []).filter(function (item) { return item.id !== id; }));
  }

  function queueAdd(item) {
    item.user = user;
    item.id = String(Date.now()) + Math.random().toString(16).slice(2);
    // One entry per lesson or attempt: pressing again replaces the earlier one.
    write(QUEUE, read(QUEUE, []).filter(function (other) { return other.url !== item.url; }).concat([item]));
  }

  // Everything this device kept: the queue, quiz drafts, the cached pages, the service worker.
  function wipe() {
    Object.keys(window.localStorage)
      .filter(function (key) { return key.indexOf("aware-offline") === 0; })
      .forEach(function (key) { window.localStorage.removeItem(key); });
    var steps = [];
    if (window.caches) {
      steps.push(caches.keys().then(function (names) {
        return Promise.all(names.map(function (name) { return caches.delete(name); }));
      }));
    }
    if ("serviceWorker" in navigator) {
      steps.push(navigator.serviceWorker.getRegistrations().then(function (registrations) {
        return Promise.all(registrations.map(function (r) { return r.unregister(); }));
      }));
    }
    return Promise.all(steps);
  }

  // A GOV.UK notification banner inside the live region, so that it is read out.
  function show(title, lines, options) {
    if (!status) return;
    options = options || {};
    var banner = document.createElement("div");
    banner.className = "govuk-notification-banner" + (options.success ? " govuk-notification-banner--success" : "");
    banner.setAttribute("role", "region");
    banner.setAttribute("aria-labelledby", "offline-status-title");
    banner.setAttribute("data-testid", "offline-banner");
    var header = document.createElement("div");
    header.className = "govuk-notification-banner__header";
    var heading = document.createElement("h2");
    heading.className = "govuk-notification-banner__title";
    heading.id = "offline-status-title";
    heading.textContent = title;
    header.appendChild(heading);
    var content = document.createElement("div");
    content.className = "govuk-notification-banner__content";
    lines.forEach(function (line, index) {
      var p = document.createElement("p");
      p.className = index === 0 ? "govuk-notification-banner__heading" : "govuk-body";
      p.textContent = line.text;
      if (line.link) {
        var a = document.createElement("a");
        a.className = "govuk-notification-banner__link";
        a.href = line.link.url;
        a.textContent = line.link.text;
        p.appendChild(document.createTextNode(" "));
        p.appendChild(a);
      }
      content.appendChild(p);
    });
    banner.appendChild(header);
    banner.appendChild(content);
    status.replaceChildren(banner);
  }

  function showWaiting() {
    var items = queued();
    if (!items.length) return;
    show("Saved on this phone", [
      { text: items.length === 1
        ? "1 thing you did offline is saved on this phone and will be sent when you are back online."
        : items.length + " things you did offline are saved on this phone and will be sent when you are back online." },
      { text: items.map(function (item) { return item.title; }).join("; ") + "." },
    ]);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // Sends what was kept, oldest first. An item leaves the queue once the server has answered
  // about it (recorded, refused, or too late); it stays while there is no signal, the server
  // fails, or the session has ended (it goes when the learner signs in again on this device).
  var syncing = false;
  function sync() {
    var items = queued();
    if (syncing || !items.length || !navigator.onLine) return Promise.resolve();
    syncing = true;
    var outcomes = [];
    var next = null;
    var signIn = false;
    var chain = items.reduce(function (previous, item) {
      return previous.then(function () {
        var body = new FormData();
        body.append("csrfmiddlewaretoken", csrfToken());
        (item.fields || []).forEach(function (pair) { body.append(pair[0], pair[1]); });
        return fetch(item.url, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          redirect: "manual",
          headers: { "X-Aware-Offline-Sync": "1", Accept: "application/json" },
        }).then(function (response) {
          if (response.type === "opaqueredirect") { signIn = true; return; }
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (json) {
            return response.json().then(function (answer) {
              queueRemove(item.id);
              if (item.kind === "quiz") window.localStorage.removeItem(DRAFT + item.attempt);
              outcomes.push({ text: answer.message, ok: response.ok });
              if (answer.url && item.kind === "quiz" && window.location.pathname === item.url) next = answer.url;
            });
          }
          if (response.status === 404) {
            queueRemove(item.id);
            outcomes.push({ text: "“" + item.title + "” was not recorded: it is no longer published.", ok: false });
          }
          // Anything else (a server error, an expired form token) is tried again later.
        }, function () { /* no signal after all: kept for the next try */ });
      });
    }, Promise.resolve());
    return chain.then(function () {
      syncing = false;
      if (next) { window.location.assign(next); return; }
      var lines = outcomes.map(function (outcome) { return { text: outcome.text }; });
      if (signIn) lines.push({ text: "Sign in again to send what is still saved on this phone." });
      var left = queued().length;
      if (left && !signIn) lines.push({ text: left + " still saved on this phone, to be sent later." });
      if (!lines.length) return;
      var allOk = outcomes.length && outcomes.every(function (o) { return o.ok; }) && !left;
      show(allOk ? "Sent" : "Sent from this phone", lines, { success: allOk });
    });
  }

  // "Complete" pressed without a signal: kept, and the learner can read on.
  var complete = document.querySelector("form[data-offline-complete]");
  if (complete) {
    complete.addEventListener("submit", function (event) {
      if (navigator.onLine) return;
      event.preventDefault();
      var title = complete.getAttribute("data-lesson-title");
      queueAdd({ kind: "lesson", url: window.location.pathname, title: "“" + title + "” completed" });
      var lines = [{ text: "“" + title + "” will be marked complete when you are back online." }];
      var nextUrl = complete.getAttribute("data-next-url");
      if (nextUrl) lines.push({ text: "You can carry on reading.", link: { url: nextUrl, text: "Next lesson: " + complete.getAttribute("data-next-title") } });
      show("Saved on this phone, will sync", lines);
    });
  }

  // A quiz: every answer is kept on the phone as it is chosen; saving or submitting without a
  // signal keeps the whole form to send when the signal returns.
  var quiz = document.querySelector("form[data-offline-quiz]");
  if (quiz) {
    var attempt = quiz.getAttribute("data-offline-quiz");
    var fields = function (submitter) {
      return Array.from(new FormData(quiz, submitter).entries()).filter(function (pair) {
        return pair[0] !== "csrfmiddlewaretoken";
      });
    };
    var draft = read(DRAFT + attempt, null);
    if (draft && draft.user === user) {
      var chosen = draft.fields.map(function (pair) { return pair[0] + "=" + pair[1]; });
      quiz.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (input) {
        input.checked = chosen.indexOf(input.name + "=" + input.value) !== -1;
      });
    }
    quiz.addEventListener("change", function () {
      write(DRAFT + attempt, { user: user, fields: fields() });
    });
    quiz.addEventListener("submit", function (event) {
      if (navigator.onLine) return;
      event.preventDefault();
      var submitter = event.submitter;
      var submitting = !submitter || submitter.value !== "save";
      write(DRAFT + attempt, { user: user, fields: fields() });
      queueAdd({
        kind: "quiz",
        attempt: attempt,
        url: window.location.pathname,
        title: "your assessment answers",
        fields: fields(submitter),
      });
      var lines = [{ text: submitting
        ? "Your answers will be submitted when you are back online."
        : "Your answers will be saved when you are back online." }];
      if (quiz.getAttribute("data-deadline")) {
        lines.push({ text: "The time limit still counts: answers that reach us after " + quiz.getAttribute("data-deadline") + " are not marked." });
      }
      show("Saved on this phone, will sync", lines);
    });
  }

  // Signing out deletes what this device kept (the server's Clear-Site-Data header does too).
  var signOut = script.getAttribute("data-sign-out");
  document.querySelectorAll("form").forEach(function (form) {
    if (new URL(form.action, window.location.href).pathname !== signOut) return;
    var waiting = queued().length;
    if (waiting) {
      var warning = document.createElement("div");
      warning.className = "govuk-warning-text";
      warning.setAttribute("data-testid", "offline-sign-out-warning");
      warning.innerHTML = '<span class="govuk-warning-text__icon" aria-hidden="true">!</span><strong class="govuk-warning-text__text"><span class="govuk-visually-hidden">Warning</span></strong>';
      warning.querySelector("strong").appendChild(document.createTextNode(
        waiting + " saved on this phone " + (waiting === 1 ? "has" : "have") + " not been sent yet. " +
        "Signing out deletes " + (waiting === 1 ? "it" : "them") + ": connect to the internet first and open any page."));
      form.parentNode.insertBefore(warning, form);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      wipe().then(function () { form.submit(); }, function () { form.submit(); });
    }, { once: true });
  });

  // Asks the service worker to keep these pages (fetched ahead, so not recorded as opened) and
  // then the files those pages use, skipping what it already has.
  function keep(worker, urls) {
    return Promise.all(urls.map(function (url) {
      return caches.match(url).then(function (hit) { return hit ? null : url; });
    })).then(function (missing) {
      missing = missing.filter(Boolean);
      if (!missing.length) return [];
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { resolve(missing); };
        worker.postMessage({ type: "CACHE_URLS", payload: { urlsToCache: missing.map(function (url) {
          return url.indexOf("/static/") === 0 || url.indexOf("/media/") === 0
            ? url : [url, { headers: { "X-Aware-Prefetch": "1" }, credentials: "same-origin" }];
        }) } }, [channel.port2]);
      });
    });
  }

  function assetsOf(doc) {
    var urls = [];
    doc.querySelectorAll("link[rel=stylesheet][href], link[rel=icon][href], script[src], img[src]").forEach(function (el) {
      var url = new URL(el.getAttribute("href") || el.getAttribute("src"), window.location.href);
      if (url.origin === window.location.origin) urls.push(url.pathname);
    });
    return urls;
  }

  function keepModule(worker) {
    var pages = [window.location.pathname];
    document.querySelectorAll("[data-offline-cache] a[href]").forEach(function (a) {
      var url = new URL(a.href, window.location.href);
      if (url.origin === window.location.origin && pages.indexOf(url.pathname) === -1) pages.push(url.pathname);
    });
    return keep(worker, assetsOf(document).concat(pages)).then(function (fetched) {
      return Promise.all(fetched.map(function (url) {
        return caches.match(url).then(function (response) { return response ? response.text() : ""; });
      }));
    }).then(function (htmls) {
      var assets = [];
      htmls.forEach(function (html) {
        if (!html) return;
        assetsOf(new DOMParser().parseFromString(html, "text/html")).forEach(function (url) {
          if (assets.indexOf(url) === -1) assets.push(url);
        });
      });
      return keep(worker, assets);
    }).then(function () {
      document.documentElement.setAttribute("data-offline-ready", "true");
    });
  }

  function start() {
    window.addEventListener("online", sync);
    window.addEventListener("offline", showWaiting);
    if (navigator.onLine) sync(); else showWaiting();
    if (!("serviceWorker" in navigator) || !window.caches) return;
    navigator.serviceWorker.register(script.getAttribute("data-service-worker"), { scope: "/" });
    navigator.serviceWorker.ready.then(function (registration) {
      if (navigator.onLine) return keepModule(registration.active);
    });
  }

  // Someone else used this device before and did not sign out: nothing of theirs stays.
  var owner = window.localStorage.getItem(OWNER);
  if (owner && owner !== user) {
    wipe().then(function () { window.localStorage.setItem(OWNER, user); start(); });
  } else {
    window.localStorage.setItem(OWNER, user);
    start();
  }
})();
