/* order.js: turns an order exercise's "Position" selects into a list to rearrange.
 *
 * Progressive enhancement only: without it the learner picks a position (or "Doesn't
 * belong") per item and the form works as it is. With it, the items form one ordered list,
 * top to bottom, each showing its position number (the two ends also what they stand for,
 * e.g. "1 · the destination"), and a "Doesn't belong" list; an item moves with its
 * Move up / Move down buttons, its
 * "Doesn't belong" / "Put back" button, or by dragging it with a mouse. The selects stay
 * the single source of truth (they are hidden and kept in step), so the server receives
 * the same fields either way. Until the learner first moves something the selects stay
 * blank, so the shuffled starting order is never submitted as if it were an answer.
 * Every move is announced in #order-status. CSP is script-src 'self': nothing inline.
 */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  var lastMessage = "";
  function announce(message) {
    var region = document.getElementById("order-status");
    if (!region) { return; }
    if (message === lastMessage) { message += "\u00a0"; }
    lastMessage = message;
    region.textContent = message;
  }

  function enhance(root) {
    var slots = parseInt(root.getAttribute("data-slots"), 10);
    var ends = { 1: root.getAttribute("data-first") };
    ends[slots] = root.getAttribute("data-last");
    var outLabel = root.getAttribute("data-out-label");
    var list = root.querySelector(".order-list");
    var items = Array.prototype.slice.call(list.querySelectorAll(".order-item"));
    var outHeading = el("h3", { id: "order-out-title" }, outLabel);
    var outList = el("ul", { class: "card-list order-out", "aria-labelledby": "order-out-title" });
    var count = el("p", { class: "hint order-count" });
    var touched = false;

    function select(item) { return item.querySelector("select"); }
    function text(item) { return item.querySelector(".card-text").textContent.trim(); }
    function isOut(item) { return item.parentNode === outList; }

    // Start from the selects (a refused form comes back with the learner's choices).
    var placed = items.filter(function (i) { return /^\d+$/.test(select(i).value); });
    placed.sort(function (a, b) { return select(a).value - select(b).value; });
    items.forEach(function (item) {
      if (select(item).value !== "") { touched = true; }
      if (select(item).value === "out") { outList.appendChild(item); }
      else if (placed.indexOf(item) < 0) { list.appendChild(item); }
    });
    placed.reverse().forEach(function (item) { list.insertBefore(item, list.firstChild); });

    items.forEach(function (item) {
      select(item).parentNode.hidden = true;
      item.setAttribute("draggable", "true");
      item.insertBefore(el("p", { class: "order-rank" }), item.firstChild);
      var actions = el("div", { class: "card-actions" });
      var label = " \u201c" + text(item) + "\u201d";
      [["up", "Move up"], ["down", "Move down"], ["toggle", outLabel]].forEach(function (b) {
        var button = el("button", { type: "button", class: "card-move", "data-move": b[0] });
        button.appendChild(document.createTextNode(b[1]));
        button.appendChild(el("span", { class: "visually-hidden" }, label));
        actions.appendChild(button);
      });
      item.appendChild(actions);
    });
    root.classList.add("board-enhanced");
    root.insertBefore(count, list);
    root.appendChild(outHeading);
    root.appendChild(outList);

    // "3", "1 · the destination", or why an item past the last position has none.
    function rankText(position) {
      if (position > slots) { return "No position: the order has " + slots; }
      return ends[position] ? position + " \u00b7 " + ends[position] : String(position);
    }

    function sync() {
      var order = Array.prototype.slice.call(list.children);
      order.forEach(function (item, index) {
        if (touched) { select(item).value = index < slots ? String(index + 1) : ""; }
        item.querySelector(".order-rank").textContent = rankText(index + 1);
        item.querySelector('[data-move="up"]').disabled = index === 0;
        item.querySelector('[data-move="down"]').disabled = index === order.length - 1;
        var toggle = item.querySelector('[data-move="toggle"]');
        toggle.firstChild.textContent = outLabel;
      });
      Array.prototype.slice.call(outList.children).forEach(function (item) {
        if (touched) { select(item).value = "out"; }
        item.querySelector(".order-rank").textContent = "";
        item.querySelector('[data-move="up"]').disabled = true;
        item.querySelector('[data-move="down"]').disabled = true;
        item.querySelector('[data-move="toggle"]').firstChild.textContent = "Put back in the order";
      });
      var extra = order.length - slots;
      count.textContent = extra > 0
        ? "The order has " + slots + " positions: move " + extra + " more item" +
          (extra === 1 ? "" : "s") + " to \u201c" + outLabel + "\u201d."
        : extra < 0
          ? "The order has " + slots + " positions: put " + (-extra) + " item" +
            (-extra === 1 ? "" : "s") + " back in the order."
          : "Every position is filled; check the order, then submit.";
    }

    function where(item) {
      if (isOut(item)) { return "\u201c" + text(item) + "\u201d is in " + outLabel + "."; }
      var position = Array.prototype.indexOf.call(list.children, item) + 1;
      return "\u201c" + text(item) + "\u201d is now at position " + position + " of " +
        list.children.length + (ends[position] ? ", " + ends[position] : "") + ".";
    }

    function moved(item) {
      touched = true;
      sync();
      announce(where(item));
    }

    root.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button || !root.contains(button)) { return; }
      var item = button.closest(".order-item");
      var move = button.getAttribute("data-move");
      if (move === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (move === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      } else if (move === "toggle") {
        (isOut(item) ? list : outList).appendChild(item);
      } else {
        return;
      }
      moved(item);
      // At the top or bottom its own button is disabled: keep focus on the item's
      // other move button, so a keyboard user is never dropped at the top of the page.
      var other = item.querySelector(move === "up" ? '[data-move="down"]' : '[data-move="up"]');
      (button.disabled && other && !other.disabled ? other : button).focus();
    });

    // Mouse drag: drop an item on another to put it in that item's place, or on a list.
    var dragged = null;
    root.addEventListener("dragstart", function (event) {
      dragged = event.target.closest && event.target.closest(".order-item");
      if (dragged) { event.dataTransfer.setData("text/plain", dragged.id); }
    });
    root.addEventListener("dragover", function (event) {
      if (dragged && event.target.closest(".order-list, .order-out")) { event.preventDefault(); }
    });
    root.addEventListener("drop", function (event) {
      var target = event.target.closest(".order-item");
      var into = event.target.closest(".order-list, .order-out");
      if (!dragged || !into) { return; }
      event.preventDefault();
      if (target && target !== dragged) {
        var after = target.compareDocumentPosition(dragged) & Node.DOCUMENT_POSITION_PRECEDING;
        into.insertBefore(dragged, after ? target.nextSibling : target);
      } else if (!target) {
        into.appendChild(dragged);
      }
      var item = dragged;
      dragged = null;
      moved(item);
    });

    sync();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-order]"), enhance);
})();
