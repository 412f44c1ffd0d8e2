/* board.js: turns the exercise forms' plain radio / select rows into boards of cards.
 *
 * Progressive enhancement only. Without this script the server's form works as it is;
 * with it, the same form fields stay the single source of truth (a radio `place-<id>`
 * for placement boards, a `card-<prompt>-column` select for written cards), so the
 * server always receives one format. Cards move by pointer drag from anywhere on the card
 * but its fields and buttons (mouse and pen at once; touch at once from the grip, or after
 * holding the card still for a moment, so a swipe over a card still scrolls the page), by
 * tap-to-place (tap or click a card, then
 * a column or one of the target buttons that stay in view), by keyboard (Space, arrows,
 * Space, Escape) and by a "Move to…" menu (WCAG 2.5.7 single-pointer alternative).
 * Every move is announced in #board-status, which the page has from the start.
 * No dependencies, no build step; CSP is script-src 'self', so nothing inline.
 */
(function () {
  "use strict";

  var HELP = "Press Space to pick up, arrow keys to move, Space to drop, Escape to cancel. " +
    "Or use the Move to… button.";
  var TAP_HELP = "Tap a card, then tap where it goes. You can also hold a card and drag it.";
  var DRAG_THRESHOLD = 6; // px: a shorter move is a tap or click, not a drag
  var HOLD_MS = 400; // a touch held this long on a card picks it up to drag (a swipe scrolls)
  var EDGE = 48; // px from the viewport edge where a drag scrolls the page
  var uid = 0;

  function newId(prefix) { uid += 1; return prefix + "-" + uid; }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  // Card texts are short by design; a learner's long card is cut so announcements stay brief.
  function quote(text, max) {
    max = max || 160;
    text = (text || "").replace(/\s+/g, " ").trim();
    return "'" + (text.length > max ? text.slice(0, max - 1) + "…" : text) + "'";
  }

  /* --- live region ---------------------------------------------------------------- */

  var lastMessage = "";
  function announce(message) {
    var region = document.getElementById("board-status");
    if (!region) {
      region = el("div", { id: "board-status", class: "visually-hidden", "aria-live": "polite" });
      document.body.appendChild(region);
    }
    // Screen readers skip an unchanged text; vary it invisibly so a repeat is read too.
    if (message === lastMessage) { message += "\u00a0"; }
    lastMessage = message;
    region.textContent = message;
  }

  /* --- the shared board: columns, moves, keyboard, pointer, "Move to…" -------------- */

  // `kind` adapts a board to its markup: getPlace/setPlace read and write the form field,
  // describe() names a card in announcements, summary() follows every move.
  function Board(root, columns, kind) {
    this.root = root;
    this.kind = kind;
    this.columns = [];
    this.grabbed = null; // {card, from} while a keyboard move is in progress
    this.drag = null; // pointer drag state
    this.helpId = newId("board-help");
    root.classList.add("board-enhanced");
    root.insertBefore(el("p", { class: "board-help board-help-tap" }, TAP_HELP), root.firstChild);
    root.insertBefore(el("p", { class: "board-help board-help-keys", id: this.helpId }, HELP),
      root.firstChild);
    this.grid = el("div", { class: "board-columns" });
    root.appendChild(this.grid);
    // With a tray, the columns share one box: beside the tray on a wide screen (and
    // sticky there), below it on a narrow one.
    this.buckets = columns.some(function (c) { return c.tray; }) ?
      el("div", { class: "board-buckets" }) : this.grid;
    columns.forEach(this.addColumn, this);
    if (this.buckets !== this.grid) {
      this.grid.classList.add("has-tray");
      this.grid.appendChild(this.buckets);
    }
    this.selected = null; // the card chosen by a tap or click, waiting for its column
    this.targets = this.targetBar();
    root.appendChild(this.targets);
  }

  Board.prototype.addColumn = function (spec) {
    var headingId = newId("board-col");
    var box = el("div", { class: "board-column" + (spec.tray ? " board-tray" : ""),
      "data-column": spec.id });
    var heading = el("h3", { class: "board-column-title", id: headingId }, spec.label);
    var count = el("span", { class: "board-count" });
    heading.appendChild(document.createTextNode(" "));
    heading.appendChild(count);
    box.appendChild(heading);
    if (spec.description) { box.appendChild(el("p", { class: "board-column-help" }, spec.description)); }
    // role="list" because Safari drops list semantics from lists styled without bullets.
    var list = el("ol", { class: "board-list", role: "list", "aria-labelledby": headingId });
    box.appendChild(list);
    (spec.tray ? this.grid : this.buckets).appendChild(box);
    var column = { id: spec.id, label: spec.label, tray: !!spec.tray, box: box, list: list, count: count };
    this.columns.push(column);
    var board = this;
    box.addEventListener("click", function (e) {
      // Tap-to-place: a tap on the column itself (not on a card in it) places the card.
      if (board.selected && !e.target.closest(".board-list > li")) { board.place(column); }
    });
    return column;
  };

  Board.prototype.column = function (id) {
    return this.columns.find(function (c) { return c.id === id; }) || null;
  };

  Board.prototype.columnOf = function (card) {
    return this.columns.find(function (c) { return c.list.contains(card); }) || null;
  };

  Board.prototype.cards = function () {
    return Array.from(this.grid.querySelectorAll(".board-list > li"));
  };

  Board.prototype.refresh = function () {
    this.columns.forEach(function (c) {
      var n = c.list.children.length;
      c.count.textContent = "(" + n + (n === 1 ? " card)" : " cards)");
      c.box.classList.toggle("is-empty", n === 0);
      if (c.target) { c.target.lastChild.textContent = " (" + n + ")"; }
    });
    if (this.kind.refresh) { this.kind.refresh(this); }
  };

  // The one way a card changes column: form field first, then the DOM, then the news.
  Board.prototype.move = function (card, column, options) {
    options = options || {};
    var focused = card.contains(document.activeElement) ? document.activeElement : null;
    this.kind.setPlace(card, column.id);
    if (column.list.moveBefore) {
      // Moves the card without blurring it, so a screen reader does not read the card
      // again over the announcement below.
      column.list.moveBefore(card, null);
    } else {
      column.list.appendChild(card); // re-parenting blurs the card: focus it again
      if (focused && options.keepFocus !== false) { focused.focus({ preventScroll: false }); }
    }
    this.refresh();
    if (options.silent) { return; }
    var message = this.kind.describe(card) + " moved to " + column.label + ".";
    var summary = this.kind.summary(this);
    announce(summary ? message + " " + summary : message);
  };

  Board.prototype.enhanceCard = function (card) {
    var board = this;
    card.tabIndex = 0;
    var described = (card.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(this.helpId);
    card.setAttribute("aria-describedby", described.join(" "));
    // The grabbed or selected state, as text: part of the card's name (or description)
    // for assistive technology, and visible in forced-colours mode too.
    var state = el("span", { class: "card-state", id: newId("card-state") });
    var text = card.querySelector(".card-text[id]");
    if (text) {
      text.parentNode.insertBefore(state, text.nextSibling);
      card.setAttribute("aria-labelledby", text.id + " " + state.id);
    } else {
      card.insertBefore(state, card.firstChild);
      described.push(state.id);
      card.setAttribute("aria-describedby", described.join(" "));
    }
    // A touch drag starts at once on the grip; elsewhere on the card after a short hold,
    // so a swipe across cards still scrolls the page (and a tap selects for tap-to-place).
    var grip = el("span", { class: "card-grip", "aria-hidden": "true", title: "Drag to move" });
    card.insertBefore(grip, card.firstChild);
    card.appendChild(this.moveMenu(card));
    card.addEventListener("keydown", function (e) { board.onKey(card, e); });
    card.addEventListener("focusout", function () {
      // Re-parenting a card blurs it and move() focuses it again at once, so only a focus
      // that is still elsewhere a moment later means the user left: drop it there.
      setTimeout(function () {
        var g = board.grabbed;
        if (g && g.card === card && document.activeElement !== card) { board.drop(); }
      }, 0);
    });
    card.addEventListener("pointerdown", function (e) { board.onPointerDown(card, e); });
    // Once a held touch has picked the card up, the finger moves the card, not the page.
    card.addEventListener("touchmove", function (e) {
      if (board.drag && board.drag.card === card && e.cancelable) { e.preventDefault(); }
    }, { passive: false });
    card.addEventListener("contextmenu", function (e) {
      if (board.hold || board.drag) { e.preventDefault(); } // a long press is a drag here
    });
    card.addEventListener("click", function (e) {
      // The click that ends a drag must not also press a button under the pointer.
      if (board.justDragged) { e.preventDefault(); e.stopPropagation(); board.justDragged = false; }
    }, true);
    card.addEventListener("click", function (e) {
      if (e.defaultPrevented || e.target.closest("button, input, select, textarea, a, label, .move-menu")) {
        return;
      }
      e.stopPropagation(); // not a tap on the column around it
      board.select(board.selected === card ? null : card);
    });
  };

  Board.prototype.setState = function (card, text) {
    var state = card.querySelector(".card-state");
    if (state) { state.textContent = text; }
  };

  /* tap-to-place: a tap or click selects a card; a tap on a column or target places it */

  Board.prototype.targetBar = function () {
    var board = this;
    var bar = el("div", { class: "board-targets", role: "group", hidden: "" });
    bar.appendChild(el("p", { class: "board-targets-title" }, "Move the selected card to:"));
    this.columns.forEach(function (column) {
      if (column.tray) { return; } // as in "Move to…": Escape or Cancel leaves it where it is
      var button = el("button", { type: "button", class: "board-target" }, column.label);
      button.appendChild(el("span", { class: "board-target-count" }));
      button.addEventListener("click", function () { board.place(column); });
      column.target = button;
      bar.appendChild(button);
    });
    var cancel = el("button", { type: "button", class: "board-target board-target-cancel" }, "Cancel");
    cancel.addEventListener("click", function () { board.select(null); });
    bar.appendChild(cancel);
    bar.setAttribute("aria-label", "Move the selected card to");
    bar.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); board.select(null); }
    });
    return bar;
  };

  Board.prototype.select = function (card) {
    var previous = this.selected;
    if (previous) {
      previous.classList.remove("is-selected");
      this.setState(previous, "");
    }
    this.selected = card;
    this.targets.hidden = !card;
    if (!card) {
      if (previous) { announce("Nothing selected."); }
      return;
    }
    if (this.grabbed) { this.drop(); }
    card.classList.add("is-selected");
    this.setState(card, " Selected");
    var here = this.columnOf(card);
    this.columns.forEach(function (c) { if (c.target) { c.target.disabled = c === here; } });
    announce(this.kind.describe(card) + " selected, in " + here.label +
      ". Choose the column it goes in.");
  };

  Board.prototype.place = function (column) {
    var card = this.selected;
    if (!card) { return; }
    this.select(null);
    if (this.columnOf(card) !== column) { this.move(card, column, { keepFocus: false }); }
    card.focus({ preventScroll: true });
  };

  /* keyboard: Space/Enter picks up and drops, arrows move, Escape puts it back */

  Board.prototype.onKey = function (card, e) {
    if (e.target !== card || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var key = e.key;
    if (key === " " || key === "Enter") {
      e.preventDefault();
      if (this.grabbed && this.grabbed.card === card) { this.drop(true); } else { this.pickUp(card); }
    } else if (this.grabbed && this.grabbed.card === card) {
      var step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[key];
      if (step) {
        e.preventDefault();
        var targets = this.columns;
        var i = targets.indexOf(this.columnOf(card)) + step;
        if (i >= 0 && i < targets.length) { this.move(card, targets[i]); }
      } else if (key === "Escape") {
        e.preventDefault();
        this.cancel();
      }
    }
  };

  Board.prototype.pickUp = function (card) {
    if (this.grabbed) { this.drop(); }
    if (this.selected) { this.select(null); }
    this.grabbed = { card: card, from: this.columnOf(card) };
    card.classList.add("is-grabbed");
    this.setState(card, " Picked up");
    announce(this.kind.describe(card) + " picked up, in " + this.grabbed.from.label +
      ". Use the arrow keys to move it, Space to drop, Escape to cancel.");
  };

  Board.prototype.release = function () {
    var card = this.grabbed.card;
    card.classList.remove("is-grabbed");
    this.setState(card, "");
    this.grabbed = null;
    return card;
  };

  // `advance` (a keyboard drop): a card taken from the tray and dropped in a column hands
  // focus to the next card still in the tray, so the next one is always one key away.
  Board.prototype.drop = function (advance) {
    var from = this.grabbed.from;
    var card = this.release();
    var column = this.columnOf(card);
    var message = this.kind.describe(card) + " dropped in " + column.label + ".";
    var next = advance && from.tray && !column.tray ? from.list.firstElementChild : null;
    if (next) {
      next.focus();
      message += " Next card to place: " + this.kind.describe(next) + ".";
    }
    announce(message);
  };

  Board.prototype.cancel = function () {
    var from = this.grabbed.from;
    var card = this.release();
    if (this.columnOf(card) !== from) { this.move(card, from, { silent: true }); }
    announce("Move cancelled. " + this.kind.describe(card) + " is back in " + from.label + ".");
  };

  /* pointer: mouse and pen anywhere on the card; touch from the grip, or held anywhere */

  Board.prototype.onPointerDown = function (card, e) {
    if (e.button !== 0 || this.drag || this.hold) { return; }
    // A card drags from anywhere but its fields and buttons (a written card's labels too).
    if (e.target.closest("button, input, select, textarea, a, .move-menu")) { return; }
    if (e.pointerType === "touch" && !e.target.closest(".card-grip")) {
      this.holdToDrag(card, e);
      return;
    }
    if (e.pointerType === "mouse") {
      e.preventDefault(); // no text selection while dragging; so focus by hand
      card.focus({ preventScroll: true });
    }
    this.startDrag(card, e, false);
  };

  // A touch on the card body: a swipe (it moves first) is left to the page to scroll and a
  // short tap to tap-to-place; held still for HOLD_MS, it picks the card up to drag.
  Board.prototype.holdToDrag = function (card, e) {
    var board = this;
    var hold = this.hold = { card: card, id: e.pointerId, x0: e.clientX, y0: e.clientY };
    var stop = function () {
      clearTimeout(hold.timer);
      card.removeEventListener("pointermove", onMove);
      card.removeEventListener("pointerup", stop);
      card.removeEventListener("pointercancel", stop);
      if (board.hold === hold) { board.hold = null; }
    };
    var onMove = function (ev) {
      if (ev.pointerId !== hold.id) { return; }
      hold.x = ev.clientX;
      hold.y = ev.clientY;
      if (Math.hypot(ev.clientX - hold.x0, ev.clientY - hold.y0) >= DRAG_THRESHOLD) { stop(); }
    };
    hold.timer = setTimeout(function () {
      stop();
      if (board.drag) { return; }
      card.focus({ preventScroll: true });
      board.startDrag(card, { pointerId: hold.id, clientX: hold.x || hold.x0,
        clientY: hold.y || hold.y0 }, true);
    }, HOLD_MS);
    card.addEventListener("pointermove", onMove);
    card.addEventListener("pointerup", stop);
    card.addEventListener("pointercancel", stop);
  };

  // `lifted`: the card is already up (a held touch), so it follows the finger at once.
  Board.prototype.startDrag = function (card, e, lifted) {
    var board = this;
    var drag = this.drag = { card: card, id: e.pointerId, x0: e.clientX, y0: e.clientY,
      x: e.clientX, y: e.clientY, sx0: window.scrollX, sy0: window.scrollY, active: false, over: null };
    if (lifted) { this.activate(); }
    try { card.setPointerCapture(e.pointerId); } catch (err) { /* the touch already ended */ }
    drag.onMove = function (ev) { board.onPointerMove(ev); };
    drag.onUp = function (ev) { board.endDrag(ev.type === "pointerup"); };
    card.addEventListener("pointermove", drag.onMove);
    card.addEventListener("pointerup", drag.onUp);
    card.addEventListener("pointercancel", drag.onUp);
  };

  Board.prototype.onPointerMove = function (e) {
    var drag = this.drag;
    if (!drag || e.pointerId !== drag.id) { return; }
    drag.x = e.clientX;
    drag.y = e.clientY;
    if (!drag.active) {
      if (Math.hypot(drag.x - drag.x0, drag.y - drag.y0) < DRAG_THRESHOLD) { return; }
      this.activate();
    }
    this.followPointer();
    this.autoScroll();
  };

  Board.prototype.activate = function () {
    this.drag.active = true;
    if (this.grabbed) { this.drop(); }
    if (this.selected) { this.select(null); }
    this.drag.card.classList.add("is-dragging");
    this.root.classList.add("is-drag-active");
  };

  // Translate the card under the pointer; the scroll delta keeps it there while the page
  // scrolls underneath (the card's own box scrolls with the page).
  Board.prototype.followPointer = function () {
    var d = this.drag;
    var dx = d.x - d.x0 + window.scrollX - d.sx0;
    var dy = d.y - d.y0 + window.scrollY - d.sy0;
    d.card.style.transform = "translate(" + dx + "px, " + dy + "px)";
    var over = this.columnAt(d.x, d.y);
    if (over !== d.over) {
      if (d.over) { d.over.box.classList.remove("is-drop-target"); }
      if (over) { over.box.classList.add("is-drop-target"); }
      d.over = over;
    }
  };

  Board.prototype.autoScroll = function () {
    var board = this;
    var d = this.drag;
    cancelAnimationFrame(d.raf);
    // Only in the direction the pointer travelled, so a drag that starts near an edge
    // does not scroll the page away from under it.
    var step = d.y < EDGE && d.y < d.y0 ? -12 : (d.y > window.innerHeight - EDGE && d.y > d.y0 ? 12 : 0);
    if (!step) { return; }
    window.scrollBy(0, step);
    this.followPointer();
    d.raf = requestAnimationFrame(function () { if (board.drag === d) { board.autoScroll(); } });
  };

  Board.prototype.columnAt = function (x, y) {
    return this.columns.find(function (c) {
      var r = c.box.getBoundingClientRect();
      return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
    }) || null;
  };

  Board.prototype.endDrag = function (dropped) {
    var d = this.drag;
    if (!d) { return; }
    this.drag = null;
    cancelAnimationFrame(d.raf);
    d.card.removeEventListener("pointermove", d.onMove);
    d.card.removeEventListener("pointerup", d.onUp);
    d.card.removeEventListener("pointercancel", d.onUp);
    if (d.card.hasPointerCapture(d.id)) { d.card.releasePointerCapture(d.id); }
    if (!d.active) { return; } // a tap or click: leave it to the browser
    this.justDragged = true;
    setTimeout(function (board) { board.justDragged = false; }, 0, this);
    d.card.classList.remove("is-dragging");
    d.card.style.transform = "";
    this.root.classList.remove("is-drag-active");
    if (d.over) { d.over.box.classList.remove("is-drop-target"); }
    if (dropped && d.over && d.over !== this.columnOf(d.card)) {
      this.move(d.card, d.over);
    }
  };

  /* "Move to…": a disclosure with one plain button per column */

  Board.prototype.moveMenu = function (card) {
    var board = this;
    var menuId = newId("move-menu");
    var wrap = el("div", { class: "card-actions" });
    var button = el("button", { type: "button", class: "card-move", "aria-expanded": "false",
      "aria-controls": menuId }, "Move to…");
    if (this.kind.nameInButton) {
      button.appendChild(el("span", { class: "visually-hidden" }, " " + this.kind.describe(card)));
    }
    var menu = el("div", { class: "move-menu", id: menuId, hidden: "" });
    var close = function (refocus) {
      menu.hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (refocus) { button.focus(); }
    };
    button.addEventListener("click", function () {
      if (!menu.hidden) { close(false); return; }
      menu.textContent = "";
      var here = board.columnOf(card);
      board.columns.filter(function (c) { return !c.tray; }).forEach(function (c) {
        var item = el("button", { type: "button", class: "move-option" }, c.label);
        if (c === here) { item.disabled = true; item.setAttribute("aria-current", "true"); }
        item.addEventListener("click", function () {
          board.move(card, c, { keepFocus: false });
          close(true);
        });
        menu.appendChild(item);
      });
      menu.hidden = false;
      button.setAttribute("aria-expanded", "true");
      var first = menu.querySelector("button:not([disabled])");
      if (first) { first.focus(); }
    });
    wrap.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !menu.hidden) { e.preventDefault(); e.stopPropagation(); close(true); }
    });
    wrap.addEventListener("focusout", function (e) {
      if (!menu.hidden && !wrap.contains(e.relatedTarget)) { close(false); }
    });
    wrap.appendChild(button);
    wrap.appendChild(menu);
    return wrap;
  };

  /* --- submit: never blocked, but say what is still to do near the button ---------- */

  function remainingNote(board, text) {
    var form = board.root.closest("form");
    var submit = form && form.querySelector("[type=submit]");
    if (!submit) { return null; }
    if (!board.note) {
      board.note = el("p", { class: "board-remaining" });
      submit.parentNode.insertBefore(board.note, submit);
      form.addEventListener("submit", function () {
        if (board.note.textContent) { board.note.classList.add("is-warning"); }
      });
    }
    board.note.textContent = text;
    return board.note;
  }

  /* --- placement boards (sort, now-next-later): [data-board] ------------------------ */

  function placementKind(cards) {
    var total = cards.length;
    return {
      nameInButton: true,
      describe: function (card) {
        var text = card.querySelector(".card-text");
        return quote(text ? text.textContent : card.dataset.item);
      },
      getPlace: function (card) {
        var checked = card.querySelector("input[type=radio][name^='place-']:checked");
        var select = card.querySelector("select[name^='place-']");
        return checked ? checked.value : (select ? select.value : "");
      },
      setPlace: function (card, id) {
        var select = card.querySelector("select[name^='place-']");
        if (select) { select.value = id; }
        card.querySelectorAll("input[type=radio][name^='place-']").forEach(function (r) {
          r.checked = r.value === id;
        });
      },
      summary: function (board) {
        return (total - board.column("").list.children.length) + " of " + total + " placed.";
      },
      refresh: function (board) {
        var left = board.column("").list.children.length;
        remainingNote(board, left ? left + " of " + total + (total === 1 ? " item" : " items") +
          " still to place. You can submit anyway; the page will say which." : "");
      }
    };
  }

  function enhancePlacementBoard(root) {
    var columns = readColumns(root);
    var source = root.querySelector(".card-list");
    var cards = source ? Array.from(source.querySelectorAll(":scope > li.card")) : [];
    // A results board (no fields) or unexpected markup stays exactly as the server sent it.
    if (!columns || !cards.length || !cards.every(function (c) {
      return c.querySelector("[name^='place-']");
    })) { return; }
    var kind = placementKind(cards);
    var board = new Board(root, [{ id: "", label: "To place", tray: true }].concat(columns), kind);
    cards.forEach(function (card) {
      var control = card.querySelector(".card-control");
      if (control) { control.hidden = true; } // still submitted; just not shown or tabbable
      board.enhanceCard(card);
      var column = board.column(kind.getPlace(card)) || board.column("");
      column.list.appendChild(card);
    });
    source.remove();
    board.refresh();
  }

  /* --- written cards (review prompts with format: board): [data-text-board] --------- */

  function textKind() {
    return {
      nameInButton: false,
      describe: function (card) {
        var text = card.querySelector("textarea").value.trim();
        return text ? "Card " + quote(text, 60) : "Empty card";
      },
      getPlace: function (card) { return card.querySelector("select").value; },
      setPlace: function (card, id) { card.querySelector("select").value = id; },
      summary: function (board) {
        return board.columns.map(function (c) { return c.label + " " + c.list.children.length; })
          .join(", ") + ".";
      }
    };
  }

  function enhanceTextBoard(root) {
    var columns = readColumns(root);
    var source = root.querySelector(".text-card-list");
    var rows = source ? Array.from(source.querySelectorAll(":scope > li")) : [];
    if (!columns || !rows.length || !rows.every(function (r) {
      return r.querySelector("select") && r.querySelector("textarea");
    })) { return; }
    var kind = textKind();
    var board = new Board(root, columns, kind);
    var maxCards = parseInt(root.dataset.maxCards, 10) || 30;
    var template = rows[0].cloneNode(true);
    // Empty server rows wait in the hidden source list behind the "Add card" buttons;
    // they are still in the form, and the server drops rows without text.
    source.hidden = true;
    var pool = [];
    rows.forEach(function (row) {
      if (!row.querySelector("textarea").value.trim()) { pool.push(row); return; }
      placeTextCard(board, row, board.column(kind.getPlace(row)) || board.columns[0]);
    });
    board.columns.forEach(function (column) {
      var add = el("button", { type: "button", class: "button button-secondary button-small board-add" },
        "Add card");
      add.appendChild(el("span", { class: "visually-hidden" }, " to " + column.label));
      add.addEventListener("click", function () {
        if (board.cards().length >= maxCards) {
          announce("You can write at most " + maxCards + " cards.");
          return;
        }
        var row = pool.shift() || freshRow(template, root);
        placeTextCard(board, row, column);
        row.querySelector("textarea").focus();
        announce("New card in " + column.label + ". Type its text.");
      });
      column.box.appendChild(add);
    });
    board.refresh();
  }

  function placeTextCard(board, row, column) {
    if (!row.classList.contains("is-enhanced")) {
      row.classList.add("is-enhanced");
      var select = row.querySelector("select");
      (select.closest("label") || select).hidden = true; // the column shows where it is
      board.enhanceCard(row);
      var remove = el("button", { type: "button", class: "card-remove" }, "Remove");
      remove.addEventListener("click", function () { removeTextCard(board, row); });
      row.querySelector(".card-actions").appendChild(remove);
    }
    board.move(row, column, { silent: true, keepFocus: false });
  }

  function removeTextCard(board, row) {
    var column = board.columnOf(row);
    var siblings = Array.from(column.list.children);
    var next = siblings[siblings.indexOf(row) + 1] || siblings[siblings.indexOf(row) - 1];
    var name = board.kind.describe(row);
    row.remove(); // both of its fields go with it, so the column/text pairs stay aligned
    board.refresh();
    (next || column.box.querySelector(".board-add")).focus();
    announce(name + " removed from " + column.label + ". " + board.kind.summary(board));
  }

  // A blank copy of the server's first row, renumbered for its hidden "of card N" labels.
  function freshRow(template, root) {
    var row = template.cloneNode(true);
    row.querySelector("textarea").value = "";
    row.querySelectorAll("[id]").forEach(function (node) { node.id = newId(node.id); });
    var n = root.querySelectorAll("textarea").length + 1;
    row.querySelectorAll("label .visually-hidden").forEach(function (span) {
      span.textContent = " of card " + n;
    });
    return row;
  }

  function readColumns(root) {
    try {
      var columns = JSON.parse(root.dataset.columns || "null");
      return Array.isArray(columns) && columns.length ? columns : null;
    } catch (err) {
      return null;
    }
  }

  /* --- error summary: each link focuses its card, question or field ---------------- */

  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function shown(node) { return !!(node.offsetWidth || node.offsetHeight || node.getClientRects().length); }

  function canFocus(node) { return node.matches(FOCUSABLE) && !node.disabled && shown(node); }

  // The summary links to the plain control (a card's first radio, an item's select). Once
  // a board or list hides it, the nearest shown thing that takes focus stands in: the card
  // itself, or the first shown control inside the card, item or fieldset.
  function focusTargetFor(target) {
    var node = target;
    while (node && !shown(node)) { node = node.parentElement; }
    if (!node || canFocus(node)) { return node; }
    return Array.from(node.querySelectorAll(FOCUSABLE)).find(canFocus) || null;
  }

  function onSummaryClick(e) {
    var link = e.target.closest(".error-summary a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    var field = target && focusTargetFor(target);
    if (!field) { return; } // a heading: the browser's own jump is right
    e.preventDefault();
    field.focus({ preventScroll: true });
    field.scrollIntoView({ block: "center" });
  }

  function init() {
    document.addEventListener("click", onSummaryClick);
    document.querySelectorAll("[data-board]").forEach(enhancePlacementBoard);
    document.querySelectorAll("[data-text-board]").forEach(enhanceTextBoard);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
