// Shows each <time data-local-time> also in the browser's time zone, and a countdown for
// <time data-countdown> deadlines. The page is complete without this script.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function countdownText(ms) {
    if (ms <= 0) { return document.documentElement.dataset.closedText || "Closed"; }
    var minutes = Math.floor(ms / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 0) { return plural(days, "day", "days") + ", " + plural(hours, "hour", "hours") + " left"; }
    return plural(hours, "hour", "hours") + ", " + plural(mins, "minute", "minutes") + " left";
  }
  document.querySelectorAll("time[data-local-time]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    var local = el.parentNode.querySelector(".local-time");
    if (local) {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      local.textContent = "(" + new Intl.DateTimeFormat(lang, {
        dateStyle: "medium", timeStyle: "short"
      }).format(when) + " " + zone + ")";
      local.hidden = false;
    }
    var countdown = el.hasAttribute("data-countdown") && el.parentNode.querySelector(".countdown");
    if (countdown && lang.indexOf("en") === 0) {
      var tick = function () { countdown.textContent = " · " + countdownText(when - new Date()); };
      tick();
      countdown.hidden = false;
      setInterval(tick, 30000);
    }
  });
})();
