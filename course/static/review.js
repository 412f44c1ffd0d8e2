/* Review page enhancements; the form works fully without them.
   - In a rubric criterion, keys 1..n choose a level (1 is the best, as listed) and focus
     moves on to the next criterion.
   - The running total follows the chosen levels and is announced (aria-live). */
(function () {
  "use strict";
  var form = document.querySelector("[data-review-form]");
  if (!form) { return; }
  var criteria = Array.prototype.slice.call(form.querySelectorAll("[data-criterion]"));
  var total = document.getElementById("running-total");

  function updateTotal() {
    if (!total) { return; }
    var sum = 0, chosen = 0;
    criteria.forEach(function (fieldset) {
      var picked = fieldset.querySelector("input:checked");
      if (picked) { sum += parseFloat(picked.getAttribute("data-points")); chosen += 1; }
    });
    var max = total.getAttribute("data-max");
    var text = (chosen ? String(Math.round(sum * 100) / 100) : "–") + " of " + max + " points";
    if (chosen && chosen < criteria.length) {
      text += " (" + (criteria.length - chosen) + " criteria still to choose)";
    }
    total.textContent = text;
  }

  function focusCriterion(fieldset) {
    var target = fieldset.querySelector("input:checked") || fieldset.querySelector("input");
    if (target) { target.focus(); }
  }

  criteria.forEach(function (fieldset, index) {
    fieldset.addEventListener("change", updateTotal);
    fieldset.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      var n = parseInt(event.key, 10);
      var options = fieldset.querySelectorAll("input[type=radio]");
      if (isNaN(n) || n < 1 || n > options.length) { return; }
      event.preventDefault();
      options[n - 1].checked = true;
      updateTotal();
      var next = criteria[index + 1];
      if (next) { focusCriterion(next); } else {
        var feedback = form.querySelector("textarea[name=feedback]");
        if (feedback) { feedback.focus(); }
      }
    });
  });
  updateTotal();
})();
