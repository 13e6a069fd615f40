// Firestorm live alerts: listens to /live/events (server-sent events) and lists each alert.
// Builds DOM nodes with textContent only: nothing from an alert is ever parsed as HTML.
"use strict";

(function () {
  const list = document.getElementById("alerts");
  const status = document.getElementById("live-status");
  if (!list || !status) {
    return;
  }

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function cell(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    node.textContent = text;
    return node;
  }

  function show(alert) {
    const item = document.createElement("li");
    item.className = "alert sev-" + String(alert.severity).replace(/[^a-z]/g, "");
    item.dataset.incident = String(alert.incident_id);
    item.appendChild(cell("span", "sev sev-" + String(alert.severity).replace(/[^a-z]/g, ""),
      String(alert.severity)));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(cell("strong", "event", String(alert.event)));
    item.appendChild(document.createTextNode(" "));
    const link = cell("a", "entity", String(alert.entity_name) + " (" + String(alert.entity_kind) + ")");
    if (typeof alert.href === "string" && alert.href.startsWith("/incidents/")) {
      link.href = alert.href;
    }
    item.appendChild(link);
    item.appendChild(cell("span", "when", " at " + String(alert.at).replace("T", " ").replace("Z", " UTC")));
    const figures = String(alert.volume) + " mentions/min vs " + String(alert.expected_volume) +
      " expected; " + Math.round(Number(alert.negativity) * 100) + "% negative";
    item.appendChild(cell("div", "figures", figures));
    const why = Array.isArray(alert.reasons) ? alert.reasons.join("; ") : "";
    if (why) {
      item.appendChild(cell("div", "why", why));
    }
    if (alert.acknowledged_by) {
      item.appendChild(cell("div", "ack", "acknowledged by " + String(alert.acknowledged_by)));
    }
    list.insertBefore(item, list.firstChild);
  }

  const source = new EventSource("/live/events");
  source.addEventListener("ready", function () {
    setStatus("live", "Live: new alerts appear here as they arrive.");
  });
  source.addEventListener("alert", function (message) {
    try {
      show(JSON.parse(message.data));
    } catch (err) {
      console.warn("firestorm: unreadable alert", err);
    }
  });
  source.addEventListener("error", function () {
    setStatus("reconnecting", "Connection lost: reconnecting…");
  });
})();
