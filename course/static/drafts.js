/* drafts.js: keeps an unsaved written answer in this browser until it is submitted.
 *
 * Progressive enhancement for the written prompts of a review exercise (kinds/review.html):
 * without it the form works as it is, and a reload loses what was typed. With it, what
 * the learner types in a field marked data-draft is kept in localStorage under the
 * exercise id and version (another version may ask different questions, so its draft is
 * dropped). On the next visit a kept draft that differs from the page's own text is put
 * back, and the status region says so, with a Discard button that brings back the page's
 * text. Leaving the page with text the server has not got asks first (beforeunload);
 * submitting does not.
 *
 * A submitted draft is not dropped at once: the submission may yet fail (a refused answer,
 * a lost connection). It is marked with the number of attempts the learner had used, and
 * dropped once a page counts more: the attempt page the submission leads to (marked
 * data-drafts-saved), or the exercise page later. Until then it stays a draft. CSP is
 * script-src 'self': nothing inline.
 */
(function () {
  "use strict";

  var PREFIX = "course-draft:";
  var SAVE_AFTER_MS = 400;
  // A live region filled while the page loads may not be read out: fill it a moment later.
  var ANNOUNCE_AFTER_MS = 300;

  function localStore() {
    try {
      var store = window.localStorage;
      store.getItem(PREFIX);
      return store;
    } catch (e) {
      return null;  // storage refused (a private window, a policy): only the warning works
    }
  }

  function read(store, key) {
    try {
      var draft = JSON.parse(store.getItem(key) || "null");
      var valid = draft && typeof draft.fields === "object" && draft.fields !== null &&
        typeof draft.savedAt === "number";
      return valid ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function write(store, key, draft) {
    try {
      store.setItem(key, JSON.stringify(draft));
    } catch (e) {
      /* storage full or refused: the warning before leaving still protects the text */
    }
  }

  function remove(store, key) {
    try { store.removeItem(key); } catch (e) { /* nothing kept, nothing to remove */ }
  }

  /* Of the exercise's kept drafts, drop those whose submission was saved (the learner has
   * used more attempts than when they submitted it) and, where `key` names the current
   * version's draft, those of other versions; a submitted draft that was not saved becomes
   * a plain draft again. On an attempt page (`key` null) the current version is unknown:
   * drafts that were not submitted stay. */
  function settle(store, exercise, used, key) {
    var names = [];
    for (var i = 0; i < store.length; i += 1) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX + exercise + ":") === 0) { names.push(name); }
    }
    names.forEach(function (name) {
      var draft = read(store, name);
      var submitted = draft && typeof draft.submittedWith === "number";
      if (!draft || (key !== null && name !== key) || (submitted && used > draft.submittedWith)) {
        remove(store, name);
      } else if (submitted && key !== null) {
        delete draft.submittedWith;
        write(store, name, draft);
      }
    });
  }

  function when(savedAt) {
    var date = new Date(savedAt);
    var time = document.createElement("time");
    time.setAttribute("datetime", date.toISOString());
    var today = date.toDateString() === new Date().toDateString();
    time.textContent = today
      ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    return time;
  }

  /* Whose drafts: the learner's id, so on a shared computer nobody gets another's. */
  function learner(element) {
    var holder = element.closest("[data-learner]");
    return holder ? holder.getAttribute("data-learner") : "";
  }

  function attemptsUsed(element) {
    var holder = element.closest("[data-attempts-used]");
    return holder ? parseInt(holder.getAttribute("data-attempts-used"), 10) || 0 : 0;
  }

  /* An attempt page: the answer shown is saved, so its draft goes. */
  function settleSaved(marker) {
    var store = localStore();
    if (store) {
      settle(store, learner(marker) + "/" + marker.getAttribute("data-drafts-saved"),
             attemptsUsed(marker), null);
    }
  }

  /* An exercise page: keep, restore and guard the written answer. */
  function enhance(status) {
    var form = status.closest("form");
    if (!form) { return; }
    var fields = Array.prototype.slice.call(form.querySelectorAll("textarea[data-draft]"));
    if (!fields.length) { return; }
    var exercise = learner(form) + "/" + status.getAttribute("data-drafts");
    var key = PREFIX + exercise + ":" + status.getAttribute("data-version");
    var used = attemptsUsed(form);
    var store = localStore();
    var submitting = false;
    var timer = null;

    function unsaved() {
      return fields.some(function (field) { return field.value !== field.defaultValue; });
    }

    function save(submitted) {
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
      if (!store) { return; }
      // A submitted answer is kept whatever it holds, until a page shows it was saved.
      if (!submitted && !unsaved()) { remove(store, key); return; }
      var draft = { fields: {}, savedAt: Date.now() };
      fields.forEach(function (field) { draft.fields[field.name] = field.value; });
      if (submitted) { draft.submittedWith = used; }
      write(store, key, draft);
    }

    function showRestored(draft, restored) {
      var notice = document.createElement("p");
      notice.className = "notice draft-restored";
      notice.appendChild(document.createTextNode("Restored your unsaved draft from "));
      notice.appendChild(when(draft.savedAt));
      notice.appendChild(document.createTextNode(" \u2014 "));
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button button-secondary button-small";
      discard.textContent = "Discard";
      var what = document.createElement("span");
      what.className = "visually-hidden";
      what.textContent = " this draft";
      discard.appendChild(what);
      discard.addEventListener("click", function () {
        restored.forEach(function (field) { field.value = field.defaultValue; });
        if (store) { remove(store, key); }
        status.textContent = "Draft discarded: the answer is as it was when the page opened.";
        restored[0].focus();
      });
      notice.appendChild(discard);
      status.textContent = "";
      status.appendChild(notice);
    }

    function restore() {
      if (!store) { return; }
      settle(store, exercise, used, key);
      var draft = read(store, key);
      if (!draft) { return; }
      var restored = fields.filter(function (field) {
        var text = draft.fields[field.name];
        return typeof text === "string" && text !== field.value;
      });
      if (!restored.length) { return; }
      restored.forEach(function (field) { field.value = draft.fields[field.name]; });
      window.setTimeout(function () { showRestored(draft, restored); }, ANNOUNCE_AFTER_MS);
    }

    restore();
    form.addEventListener("input", function (event) {
      if (fields.indexOf(event.target) === -1) { return; }
      if (timer !== null) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () { save(false); }, SAVE_AFTER_MS);
    });
    // On the document, so that it runs after any handler on the form that cancels the submit.
    document.addEventListener("submit", function (event) {
      if (event.target !== form || event.defaultPrevented) { return; }
      submitting = true;
      save(true);
    });
    window.addEventListener("pageshow", function (event) {
      // Back on this page from the history: its text may be edited and left again.
      if (event.persisted) { submitting = false; }
    });
    window.addEventListener("pagehide", function () {
      if (timer !== null) { save(false); }
    });
    window.addEventListener("beforeunload", function (event) {
      if (submitting || !unsaved()) { return; }
      if (timer !== null) { save(false); }
      event.preventDefault();
      event.returnValue = "";  // browsers that ask only when it is set
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-drafts-saved]"), settleSaved);
  Array.prototype.forEach.call(document.querySelectorAll("[data-drafts]"), enhance);
}());
