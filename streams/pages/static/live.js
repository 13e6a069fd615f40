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
    if (alert.story) {
      item.appendChild(cell("div", "story", "one story: " + String(alert.story)));
    }
    // The figures as every channel writes them: count, window, usual value.
    const figures = Array.isArray(alert.figures) ? alert.figures.map(String).join("; ") : "";
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

  // The open incidents table, rebuilt from /live/open after each alert.
  function openRow(incident) {
    const row = document.createElement("tr");
    row.appendChild(cell("td", "", String(incident.opened)));
    const entity = document.createElement("td");
    const link = cell("a", "", String(incident.entity_name));
    if (typeof incident.href === "string" && incident.href.startsWith("/incidents/")) {
      link.href = incident.href;
    }
    entity.appendChild(link);
    entity.appendChild(document.createTextNode(" "));
    entity.appendChild(cell("span", "kind", String(incident.entity_kind)));
    row.appendChild(entity);
    const sev = String(incident.severity).replace(/[^a-z]/g, "");
    const sevCell = document.createElement("td");
    sevCell.appendChild(cell("span", "sev sev-" + sev, sev));
    row.appendChild(sevCell);
    const state = String(incident.status).replace(/[^a-z]/g, "");
    const stateCell = document.createElement("td");
    stateCell.appendChild(cell("span", "state state-" + state, state));
    row.appendChild(stateCell);
    row.appendChild(cell("td", "", incident.acknowledged_by ? String(incident.acknowledged_by)
      : "not acknowledged"));
    row.appendChild(cell("td", "", String(incident.last_event) + " at " + String(incident.last_at)));
    return row;
  }

  function refreshOpen() {
    const current = document.getElementById("open-incidents");
    if (!current) {
      return;
    }
    fetch("/live/open", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !Array.isArray(data.incidents)) {
          return;
        }
        let replacement;
        if (data.incidents.length === 0) {
          replacement = cell("p", "empty", "No incidents match.");
        } else {
          replacement = document.createElement("table");
          replacement.className = "incidents";
          const head = document.createElement("tr");
          ["Opened", "Entity", "Severity", "State", "Acknowledged by", "Last event"]
            .forEach(function (name) { head.appendChild(cell("th", "", name)); });
          const thead = document.createElement("thead");
          thead.appendChild(head);
          replacement.appendChild(thead);
          const body = document.createElement("tbody");
          data.incidents.forEach(function (incident) { body.appendChild(openRow(incident)); });
          replacement.appendChild(body);
        }
        replacement.id = "open-incidents";
        current.replaceWith(replacement);
      })
      .catch(function (err) { console.warn("firestorm: open incidents not refreshed", err); });
  }

  // The banner under the header: is the worker alive, is the history whole.
  function setLiveness(state) {
    const banner = document.getElementById("liveness");
    if (!banner || !state) {
      return;
    }
    banner.textContent = String(state.text);
    banner.className = "liveness " + (state.alarm ? "liveness-alarm" : "liveness-ok");
    banner.setAttribute("role", state.alarm ? "alert" : "status");
  }

  const source = new EventSource("/live/events");
  source.addEventListener("liveness", function (message) {
    try {
      setLiveness(JSON.parse(message.data));
    } catch (err) {
      console.warn("firestorm: unreadable liveness", err);
    }
  });
  source.addEventListener("ready", function () {
    setStatus("live", "Live: new alerts appear here as they arrive.");
  });
  source.addEventListener("alert", function (message) {
    try {
      show(JSON.parse(message.data));
    } catch (err) {
      console.warn("firestorm: unreadable alert", err);
    }
    refreshOpen();
  });
  source.addEventListener("error", function () {
    setStatus("reconnecting", "Connection lost: reconnecting…");
  });
})();
