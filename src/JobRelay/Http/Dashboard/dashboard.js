"use strict";

// The page holds no data: everything shown comes from the API, called with the key the operator typed. The key is
// kept in sessionStorage so that it ends with the tab and is never written to disk by the page.
(function () {
  const KEY_NAME = "jobrelay.apiKey";
  const REFRESH_MS = 3000;
  const STATS_EVERY = 5;
  const el = (id) => document.getElementById(id);

  let timer = null;
  let ticks = 0;
  let selectedRunId = null;
  let selectedRun = null;
  let pendingAction = null;

  function apiKey() {
    return sessionStorage.getItem(KEY_NAME);
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { "x-functions-key": apiKey() || "", "Accept": "application/json" };
    const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (!response.ok) {
      const detail = json && (json.detail || json.title) ? (json.detail || json.title) : ("HTTP " + response.status);
      throw new ApiError(response.status, detail);
    }
    return json;
  }

  function node(tag, props, children) {
    const n = document.createElement(tag);
    if (props) {
      for (const [name, value] of Object.entries(props)) {
        if (value === undefined || value === null) continue;
        if (name === "text") n.textContent = value;
        else if (name === "className") n.className = value;
        else if (name.startsWith("on")) n.addEventListener(name.slice(2), value);
        else n.setAttribute(name, value);
      }
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) n.append(child);
    }
    return n;
  }

  function time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  function stateBadge(state) {
    return node("span", { className: "state state-" + state, text: state });
  }

  function showError(message) {
    el("error").textContent = message || "";
  }

  function handleFailure(error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut("The API key was refused: sign in again.");
      return;
    }
    showError(error.message);
  }

  // ---- sign in and out

  function signIn(event) {
    event.preventDefault();
    const value = el("api-key").value.trim();
    if (!value) {
      el("login-error").textContent = "Enter the API key.";
      el("api-key").focus();
      return;
    }
    sessionStorage.setItem(KEY_NAME, value);
    el("api-key").value = "";
    start();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_NAME);
    if (timer) clearInterval(timer);
    timer = null;
    el("app").hidden = true;
    el("who").hidden = true;
    el("login").hidden = false;
    el("login-error").textContent = typeof message === "string" ? message : "";
    el("api-key").focus();
  }

  async function start() {
    el("login").hidden = true;
    el("app").hidden = false;
    el("who").hidden = false;
    el("login-error").textContent = "";
    try {
      await loadCatalog();
    } catch (error) {
      handleFailure(error);
      if (!apiKey()) return;
    }
    await refresh(true);
    el("runs-heading").focus();
    schedule();
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = el("auto-refresh").checked ? setInterval(() => refresh(false), REFRESH_MS) : null;
  }

  // ---- catalog and stats

  let triggers = [];

  async function loadCatalog() {
    const catalog = await api("GET", "/api/triggers");
    triggers = (catalog && catalog.triggers) || [];
    const select = el("filter-trigger");
    const chosen = select.value;
    select.replaceChildren(node("option", { value: "", text: "All triggers" }), ...triggers.map((t) => node("option", { value: t.name, text: t.name })));
    select.value = chosen;
    const list = el("triggers");
    list.replaceChildren(...triggers.map(renderTrigger));
  }

  function renderTrigger(t) {
    const lines = [node("strong", { text: t.name }), document.createTextNode(" on " + t.platform + (t.enabled === false ? " (disabled)" : ""))];
    if (t.description) lines.push(node("div", { className: "muted", text: t.description }));
    const starts = [];
    if (t.webhook) starts.push("webhook " + t.webhook.route);
    if (t.after && t.after.length) starts.push("after " + t.after.map((a) => a.trigger || a.component || a.task).join(", "));
    if (t.schedule) starts.push("cron " + t.schedule.cron + " (" + t.schedule.timeZone + ")");
    if (starts.length) lines.push(node("div", { text: "Started by: " + starts.join("; ") }));
    const next = t.nextOccurrences || (t.schedule && t.schedule.nextOccurrences) || [];
    if (next.length) {
      lines.push(node("div", { text: "Next: " }, [node("span", { className: "mono", text: next.map(time).join(", ") })]));
    }
    return node("li", { "data-trigger": t.name }, lines);
  }

  async function loadStats() {
    const rows = await Promise.all(triggers.map(async (t) => {
      try {
        return await api("GET", "/api/triggers/" + encodeURIComponent(t.name) + "/stats?window=PT24H");
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) throw error;
        return { trigger: t.name, failed: error.message };
      }
    }));
    const body = el("stats").tBodies[0];
    body.replaceChildren(...rows.map((s) => {
      const c = s.counts || {};
      const cells = s.failed
        ? [node("td", { colspan: "9", text: s.failed })]
        : ["started", "pending", "duplicate", "ignored", "rejected", "outcomeUnknown", "refused", "overdue"].map((k) => node("td", { text: String(c[k] ?? 0) }))
          .concat([node("td", { text: s.startLatencyMs ? Math.round(s.startLatencyMs.p50) + " / " + Math.round(s.startLatencyMs.p95) + " ms" : "–" })]);
      return node("tr", { "data-trigger": s.trigger }, [node("th", { scope: "row", text: s.trigger }), ...cells]);
    }));
  }

  // ---- scheduler heartbeat

  const HEARTBEAT_STATES = {
    ticking: "ticking",
    starting: "starting: no tick yet since this instance started",
    late: "LATE: no tick for three intervals, readiness fails",
    unscheduled: "this host runs no tick",
  };

  function ago(iso, now) {
    const seconds = Math.max(0, Math.round((new Date(now) - new Date(iso)) / 1000));
    return seconds < 120 ? seconds + " s ago" : Math.round(seconds / 60) + " min ago";
  }

  async function loadHeartbeat() {
    let beat;
    try {
      beat = await api("GET", "/api/health/scheduler");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw error;
      el("heartbeat").textContent = "The last tick could not be read: " + error.message;
      el("heartbeat").dataset.state = "unknown";
      return;
    }
    const parts = [beat.lastTick
      ? "Last tick " + time(beat.lastTick) + " (" + ago(beat.lastTick, beat.checkedAt) + ") by " + beat.host + ", instance " + beat.instance
      : "No tick recorded yet"];
    parts.push(HEARTBEAT_STATES[beat.state] || beat.state);
    if (beat.cadence) parts.push("ticks " + beat.cadence);
    if (beat.lateAfter && beat.state !== "late") parts.push("late after " + time(beat.lateAfter));
    el("heartbeat").textContent = parts.join("; ") + ".";
    el("heartbeat").dataset.state = beat.state;
  }

  // ---- runs

  function query() {
    const params = new URLSearchParams({ limit: "50" });
    for (const name of ["trigger", "state", "origin"]) {
      const value = el("filter-" + name).value;
      if (value) params.set(name, value);
    }
    return params.toString();
  }

  async function refresh(withStats) {
    try {
      const page = await api("GET", "/api/runs?" + query());
      renderRuns((page && page.runs) || []);
      await loadHeartbeat();
      if (withStats || ++ticks % STATS_EVERY === 0) await loadStats();
      if (selectedRunId) await loadRun(selectedRunId, false);
      showError("");
      el("live").textContent = "Updated " + new Date().toLocaleTimeString() + ": " + ((page && page.runs) || []).length + " runs shown.";
    } catch (error) {
      handleFailure(error);
    }
  }

  let shownRuns = null;
  let shownDetail = null;

  // A refresh that changed nothing leaves the table alone, and one that did puts focus back on the control that had
  // it: a keyboard user's place must survive the polling.
  function focusedRunControl() {
    const active = document.activeElement;
    return active && active.dataset && active.dataset.runId ? { id: active.dataset.runId, role: active.dataset.role || null } : null;
  }

  function restoreFocus(container, focused) {
    if (!focused) return;
    const selector = "button[data-run-id=\"" + CSS.escape(focused.id) + "\"]" + (focused.role ? "[data-role=\"" + CSS.escape(focused.role) + "\"]" : "");
    const again = container.querySelector(selector);
    if (again) again.focus();
  }

  // What the watch knows of the run's job: its end state and duration, or that it is overdue, lost or abandoned.
  function followed(run) {
    const watch = run.watch;
    if (!watch) return [];
    const words = [];
    if (watch.state === "ended" && run.jobStatus) words.push(run.jobStatus.state);
    else if (watch.state === "watching") words.push("running");
    else words.push(watch.state);
    if (watch.durationSeconds !== null && watch.durationSeconds !== undefined) words.push(Math.round(watch.durationSeconds) + " s");
    if (watch.overdueAt) words.push("overdue");
    return [node("span", { className: "watch", "data-watch": watch.state, "data-overdue": watch.overdueAt ? "true" : null, text: " " + words.join(", ") })];
  }

  function renderRuns(runs) {
    const signature = JSON.stringify(runs);
    if (signature === shownRuns) return;
    shownRuns = signature;
    const focused = focusedRunControl();
    const body = el("runs").tBodies[0];
    body.replaceChildren(...runs.map((run) => {
      const job = run.jobUrl
        ? node("a", { href: run.jobUrl, rel: "noopener noreferrer", target: "_blank", text: run.jobId || "job" })
        : document.createTextNode(run.jobId || "–");
      const open = node("button", {
        type: "button", className: "small", text: "Lineage",
        "aria-label": "Open lineage of run " + run.runId + " (" + run.trigger + ")",
        "data-run-id": run.runId, "data-role": "lineage", onclick: () => loadRun(run.runId, true),
      });
      return node("tr", { "data-run-id": run.runId, "data-state": run.state, className: run.runId === selectedRunId ? "selected" : null }, [
        node("td", { "data-label": "Created", className: "mono", text: time(run.createdAt) }),
        node("td", { "data-label": "Trigger", text: run.trigger }),
        node("td", { "data-label": "Origin", text: run.origin }),
        node("td", { "data-label": "State" }, [stateBadge(run.state)]),
        node("td", { "data-label": "Job", className: "mono" }, [job, ...followed(run)]),
        node("td", { "data-label": "Lineage" }, [open]),
      ]);
    }));
    el("runs-empty").hidden = runs.length > 0;
    restoreFocus(body, focused);
  }

  // ---- one run: lineage, fields, history and actions

  async function loadRun(runId, focus) {
    try {
      const view = await api("GET", "/api/runs/" + encodeURIComponent(runId));
      selectedRunId = runId;
      selectedRun = view.run;
      renderDetail(view);
      for (const row of el("runs").tBodies[0].rows) row.classList.toggle("selected", row.dataset.runId === runId);
      if (focus) el("detail-heading").focus();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && !focus) {
        selectedRunId = null;
        el("detail").hidden = true;
        return;
      }
      handleFailure(error);
    }
  }

  function chainNode(role, run, current) {
    const children = [
      node("span", { className: "role", text: role }),
      node("strong", { text: run.trigger }),
      document.createTextNode(" "),
      stateBadge(run.state),
      node("div", { className: "mono", text: run.runId }),
      node("div", { className: "muted", text: run.origin + ", " + time(run.createdAt) }),
    ];
    const item = node("div", { className: "node" + (current ? " current" : ""), role: "listitem", "data-run-id": run.runId, "data-role": role }, children);
    if (!current) {
      item.append(node("button", { type: "button", className: "small", text: "Open", "aria-label": "Open " + role + " run " + run.runId, "data-run-id": run.runId, "data-role": role, onclick: () => loadRun(run.runId, true) }));
    }
    return item;
  }

  function renderDetail(view) {
    const signature = JSON.stringify(view);
    if (signature === shownDetail) return;
    shownDetail = signature;
    const focused = focusedRunControl();
    const run = view.run;
    el("detail").hidden = false;
    el("detail-heading").textContent = "Run " + run.runId + " (" + run.trigger + ")";

    const parts = [];
    if (view.parent) parts.push(chainNode("parent", view.parent, false), node("span", { className: "arrow", "aria-hidden": "true", text: "→" }));
    else if (view.cause) parts.push(node("div", { className: "node", role: "listitem", "data-role": "cause" }, [
      node("span", { className: "role", text: "cause" }),
      node("strong", { text: view.cause.kind }),
      node("div", { className: "mono", text: view.cause.deliveryKey || view.cause.occurrence || "" }),
    ]), node("span", { className: "arrow", "aria-hidden": "true", text: "→" }));
    parts.push(chainNode("this run", run, true));
    const followers = view.followers || [];
    if (followers.length) {
      parts.push(node("span", { className: "arrow", "aria-hidden": "true", text: "→" }));
      parts.push(node("div", { className: "followers", role: "listitem" }, [
        node("div", { role: "list", "aria-label": "Followers" }, followers.map((f) => chainNode("follower", f, false))),
      ]));
    }
    el("chain").replaceChildren(...parts);

    const fields = [
      ["State", run.state], ["Origin", run.origin], ["Platform", run.platform], ["Job", run.jobId],
      ["Job status", run.jobStatus ? run.jobStatus.state + " (" + run.jobStatus.raw + "), checked " + time(run.jobStatus.checkedAt) : null],
      ["Reason", run.reason], ["Attempts", run.attempts !== undefined ? String(run.attempts) : null],
      ["Watch", run.watch ? run.watch.state + " (" + run.watch.checks + " reads" + (run.watch.nextCheckAt ? ", next " + time(run.watch.nextCheckAt) : "") + ")" + (run.watch.reason ? ": " + run.watch.reason : "") : null],
      ["Job ended", run.watch && run.watch.jobEndedAt ? time(run.watch.jobEndedAt) + (run.watch.durationSeconds !== null ? " after " + run.watch.durationSeconds + " s" : "") : null],
      ["Overdue since", run.watch && run.watch.overdueAt ? time(run.watch.overdueAt) : null],
      ["Delivery", run.deliveryKey], ["Arguments", run.arguments ? JSON.stringify(run.arguments) : null],
      ["Created", time(run.createdAt)], ["Updated", time(run.updatedAt)],
    ].filter((f) => f[1]);
    el("detail-fields").replaceChildren(...fields.flatMap(([name, value]) => [node("dt", { text: name }), node("dd", { text: value })]));

    el("detail-history").replaceChildren(...(view.history || []).map((h) =>
      node("li", { text: time(h.at) + " " + h.action + " by " + h.by + (h.detail ? ": " + h.detail : "") })));

    el("action-start-again").disabled = run.state !== "outcome-unknown";
    // A job's controls are offered wherever there is a job: a platform without one answers why (409), shown as the result.
    for (const id of ["action-cancel", "action-approve", "action-reject", "action-restart"]) el(id).disabled = !run.jobId;
    restoreFocus(el("chain"), focused);
  }

  const ACTIONS = {
    "start-again": {
      title: "Start again",
      text: (run) => "Run " + run.runId + " has an unknown outcome: its job may already exist on " + (run.platform || "the platform") + ". Starting again may run the job twice.",
      needsCheck: true,
      body: () => ({ confirm: true }),
    },
    "replay": {
      title: "Replay",
      text: (run) => "Start " + run.trigger + " again with the arguments stored on run " + run.runId + ".",
      body: () => ({}),
    },
    "cancel": {
      title: "Cancel job",
      text: (run) => "Cancel job " + run.jobId + " of run " + run.runId + " on " + (run.platform || "its platform") + ".",
      body: () => ({}),
    },
    "approve": {
      title: "Approve",
      text: (run) => "Approve job " + run.jobId + " of run " + run.runId + " on " + (run.platform || "its platform") + ": a TheEye approval job on hold goes on as approved.",
      body: () => ({}),
    },
    "reject": {
      title: "Reject",
      text: (run) => "Reject job " + run.jobId + " of run " + run.runId + " on " + (run.platform || "its platform") + ": a TheEye approval job on hold ends as rejected.",
      body: () => ({}),
    },
    "restart": {
      title: "Restart job",
      text: (run) => "Run job " + run.jobId + " of run " + run.runId + " on " + (run.platform || "its platform") + " once more, as the same job, with the run's arguments. Only a completed TheEye script job restarts.",
      body: () => ({}),
    },
  };

  function askConfirmation(event) {
    el("action-result").textContent = "";
    const name = event.currentTarget.dataset.action;
    const action = ACTIONS[name];
    if (!selectedRun || !action) return;
    pendingAction = { name, runId: selectedRun.runId, opener: event.currentTarget };
    el("confirm-heading").textContent = action.title + "?";
    el("confirm-text").textContent = action.text(selectedRun);
    el("confirm-check-row").hidden = !action.needsCheck;
    el("confirm-check").checked = false;
    el("confirm-yes").disabled = !!action.needsCheck;
    el("confirm-yes").textContent = action.title;
    el("confirm").showModal();
    (action.needsCheck ? el("confirm-check") : el("confirm-no")).focus();
  }

  function closeConfirmation() {
    const opener = pendingAction && pendingAction.opener;
    pendingAction = null;
    if (el("confirm").open) el("confirm").close();
    if (opener && !opener.disabled) opener.focus();
  }

  async function confirmAction(event) {
    event.preventDefault();
    if (!pendingAction) return;
    const { name, runId } = pendingAction;
    const action = ACTIONS[name];
    closeConfirmation();
    try {
      const answer = await api("POST", "/api/runs/" + encodeURIComponent(runId) + "/" + name, action.body());
      const started = answer && answer.run ? answer.run : null;
      await refresh(true);
      await loadRun(started && started.runId ? started.runId : runId, true);
      el("action-result").textContent = action.title + " done" + (started && started.runId !== runId ? ": new run " + started.runId + " (" + started.state + ")." : ".") + (answer && answer.warning ? " " + answer.warning : "");
    } catch (error) {
      handleFailure(error);
    }
  }

  // ---- wiring

  document.addEventListener("DOMContentLoaded", () => {
    el("login-form").addEventListener("submit", signIn);
    el("sign-out").addEventListener("click", () => signOut(""));
    el("filters").addEventListener("submit", (e) => e.preventDefault());
    for (const id of ["filter-trigger", "filter-state", "filter-origin"]) el(id).addEventListener("change", () => refresh(false));
    el("auto-refresh").addEventListener("change", schedule);
    for (const button of document.querySelectorAll("[data-action]")) button.addEventListener("click", askConfirmation);
    el("confirm-check").addEventListener("change", () => { el("confirm-yes").disabled = !el("confirm-check").checked; });
    el("confirm-form").addEventListener("submit", confirmAction);
    el("confirm-no").addEventListener("click", closeConfirmation);
    el("confirm").addEventListener("cancel", (e) => { e.preventDefault(); closeConfirmation(); });
    if (apiKey()) start(); else el("api-key").focus();
  });
})();
