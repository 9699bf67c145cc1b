/*
 * The live view on a run's admin page (SPEC §5), fed by /ws/runs/<id>/.
 *
 * The socket replays the run's event log after ?after=<seq>, then streams live
 * envelopes {id, run_id, event, data, timestamp}. The page remembers the last seq
 * it applied: a reconnect asks only for what came after it, and any envelope at or
 * below it is ignored, so nothing is shown twice or skipped.
 *
 * Event data is untrusted (model output, tool results): it reaches the page only
 * through textContent, never as HTML.
 */
(function () {
  "use strict";

  const TERMINAL_EVENTS = new Set([
    "run.succeeded",
    "run.failed",
    "run.cancelled",
    "run.timed_out",
  ]);
  const CLOSE_UNAUTHENTICATED = 4401;
  const CLOSE_FORBIDDEN = 4403;
  const RETRY_FIRST_MS = 500;
  const RETRY_MAX_MS = 15000;
  // Keeps idle proxies from closing a socket while the run waits (e.g. for an approval).
  const PING_EVERY_MS = 25000;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function asText(value) {
    if (value === undefined || value === null) return "";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function isNumber(value) {
    return typeof value === "number";
  }

  function capitalized(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function retryDelay(attempt) {
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
    return delay / 2 + Math.random() * (delay / 2);
  }

  class LiveRun {
    constructor(panel) {
      this.panel = panel;
      this.lastSeq = 0;
      this.attempt = 0;
      this.finished = false;
      this.socket = null;
      this.pinger = null;
      this.stepCount = 0;
      this.openStep = null;
      this.lastStep = null;
      this.tools = new Map();
      this.approvals = new Map();
      this.steps = panel.querySelector("#run-live-steps");
      this.warnings = panel.querySelector("#run-live-warnings");
      this.statusNode = panel.querySelector("#run-live-status");
      this.statusAtLoad = this.statusNode.dataset.status;
      this.connectionNode = panel.querySelector("#run-live-connection");
      this.labels = JSON.parse(document.getElementById("run-live-status-labels").textContent);
      this.decisionTemplate = document.getElementById("run-live-decision");
      this.handlers = {
        "run.queued": () => this.setStatus("queued"),
        "run.started": () => this.setStatus("running"),
        "llm.delta": (data) => this.appendText(data.text),
        "llm.completed": (data) => this.completeStep(data),
        "tool.called": (data) => this.toolCalled(data),
        "tool.result": (data) => this.toolResult(data),
        "approval.required": (data) => this.approvalRequired(data),
        "approval.resolved": (data) => this.approvalResolved(data),
        "run.warning": (data) => this.warning(data),
      };
    }

    // --- The socket -------------------------------------------------------------

    connect() {
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      const path = `${this.panel.dataset.socketPath}?after=${this.lastSeq}`;
      const socket = new WebSocket(`${scheme}//${window.location.host}${path}`);
      this.socket = socket;
      socket.addEventListener("open", () => this.opened());
      socket.addEventListener("message", (message) => this.receive(message.data));
      socket.addEventListener("close", (event) => this.closed(socket, event));
    }

    opened() {
      this.attempt = 0;
      this.showConnection("live", "Live");
      this.pinger = window.setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
    }

    send(message) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify(message));
      }
    }

    closed(socket, event) {
      if (socket !== this.socket) return;
      window.clearInterval(this.pinger);
      if (this.finished) {
        this.showConnection("finished", "Finished");
      } else if (event.code === CLOSE_UNAUTHENTICATED) {
        this.showConnection("stopped", "Signed out: reload the page to sign in again.");
      } else if (event.code === CLOSE_FORBIDDEN) {
        this.showConnection("stopped", "You may not follow this run.");
      } else {
        this.reconnectLater();
      }
    }

    reconnectLater() {
      const delay = retryDelay(this.attempt);
      this.attempt += 1;
      const seconds = Math.ceil(delay / 1000);
      this.showConnection("reconnecting", `Disconnected; reconnecting in ${seconds} s…`);
      window.setTimeout(() => this.connect(), delay);
    }

    receive(raw) {
      let envelope;
      try {
        envelope = JSON.parse(raw);
      } catch (error) {
        return;
      }
      // Replies such as pong or error carry a "type" and no seq: nothing to show.
      if (typeof envelope.id !== "number" || typeof envelope.event !== "string") return;
      if (envelope.id <= this.lastSeq) return;
      this.lastSeq = envelope.id;
      this.panel.dataset.lastSeq = String(envelope.id);
      this.apply(envelope.event, envelope.data || {});
    }

    apply(event, data) {
      if (TERMINAL_EVENTS.has(event)) {
        this.finish(data);
        return;
      }
      const handler = this.handlers[event];
      if (handler) handler(data);
    }

    showConnection(state, text) {
      this.connectionNode.dataset.state = state;
      this.connectionNode.textContent = text;
    }

    // --- Status and outcome -----------------------------------------------------

    setStatus(status) {
      this.statusNode.dataset.status = status;
      this.statusNode.textContent = this.labels[status] || status;
    }

    finish(data) {
      this.finished = true;
      this.openStep = null;
      const changedSinceLoad = this.statusAtLoad !== data.status;
      this.setStatus(data.status);
      const succeeded = data.status === "succeeded";
      this.panel.querySelector("#run-live-outcome-title").textContent = succeeded
        ? "Answer"
        : this.labels[data.status] || data.status;
      this.showText("#run-live-answer", data.result);
      this.showText("#run-live-error", data.error);
      this.panel.querySelector("#run-live-reload").hidden = !changedSinceLoad;
      // A finished run decides nothing more: a pending approval died with it.
      this.panel.querySelectorAll(".run-live-decision").forEach((buttons) => buttons.remove());
      this.panel.querySelector("#run-live-outcome").hidden = false;
      this.socket.close(1000);
    }

    showText(selector, value) {
      const node = this.panel.querySelector(selector);
      node.textContent = asText(value);
      node.hidden = !node.textContent;
    }

    // Something the run goes on without, e.g. an MCP server it could not reach.
    warning(data) {
      this.warnings.append(element("li", "run-live-warning", asText(data.message)));
      this.warnings.hidden = false;
    }

    // --- Steps: one per LLM call, holding its streamed text and its tool calls ----

    newStep() {
      this.stepCount += 1;
      const step = element("li", "run-live-step");
      step.dataset.step = String(this.stepCount);
      step.dataset.state = "streaming";
      const head = element("div", "run-live-step-head");
      head.append(
        element("strong", "", `Step ${this.stepCount}`),
        " ",
        element("span", "run-live-step-meta"),
      );
      step.append(head, element("div", "run-live-text"), element("ul", "run-live-calls"));
      this.steps.append(step);
      this.openStep = step;
      this.lastStep = step;
      return step;
    }

    appendText(text) {
      const step = this.openStep || this.newStep();
      step.querySelector(".run-live-text").append(asText(text));
    }

    completeStep(usage) {
      const step = this.openStep || this.newStep();
      const tokens = (usage.prompt_tokens || 0) + (usage.completion_tokens || 0);
      const parts = [usage.model, `${tokens} tokens`];
      if (isNumber(usage.latency_ms)) parts.push(`${usage.latency_ms} ms`);
      step.querySelector(".run-live-step-meta").textContent = parts.filter(Boolean).join(" · ");
      step.dataset.state = "done";
      this.openStep = null;
    }

    addCall(node) {
      // Tool calls and approvals belong to the LLM call that asked for them.
      const step = this.lastStep || this.newStep();
      step.querySelector(".run-live-calls").append(node);
    }

    // --- Tool calls ----------------------------------------------------------------

    toolCalled(data) {
      const item = element("li", "run-live-tool");
      item.dataset.callId = data.id || "";
      item.dataset.state = "running";
      const details = element("details");
      const summary = element("summary");
      summary.append(
        element("code", "", data.tool),
        " ",
        element("span", "run-live-tool-state", "running…"),
      );
      details.append(
        summary,
        element("div", "run-live-caption", "Arguments"),
        element("pre", "run-live-tool-arguments", asText(data.arguments)),
        element("div", "run-live-caption", "Result"),
        element("pre", "run-live-tool-result"),
      );
      item.append(details);
      this.tools.set(data.id, item);
      this.addCall(item);
    }

    toolResult(data) {
      const item = this.tools.get(data.id);
      if (!item) return;
      item.dataset.state = data.success ? "ok" : "error";
      const took = isNumber(data.duration_ms) ? ` in ${data.duration_ms} ms` : "";
      const state = item.querySelector(".run-live-tool-state");
      state.textContent = data.success ? `done${took}` : `failed${took}`;
      item.querySelector(".run-live-tool-result").textContent = data.success
        ? asText(data.result)
        : asText(data.error || data.result);
    }

    // --- Approvals -----------------------------------------------------------------

    approvalRequired(data) {
      this.setStatus("requires_approval");
      const item = element("li", "run-live-approval");
      item.dataset.approvalId = data.approval_id;
      item.dataset.state = "pending";
      const title = element("p", "run-live-approval-title");
      title.append(
        element("strong", "", "Approval required"),
        " before calling ",
        element("code", "", data.tool),
      );
      item.append(title, element("pre", "run-live-tool-arguments", asText(data.arguments)));
      if (this.decisionTemplate) item.append(this.decisionButtons(data.approval_id));
      item.append(element("p", "run-live-approval-outcome"));
      this.approvals.set(data.approval_id, item);
      this.addCall(item);
    }

    decisionButtons(approvalId) {
      const box = this.decisionTemplate.content.firstElementChild.cloneNode(true);
      for (const button of box.querySelectorAll("button[data-decision]")) {
        const decision = button.dataset.decision;
        button.addEventListener("click", () => this.decide(approvalId, decision, box));
      }
      return box;
    }

    async decide(approvalId, decision, box) {
      const item = box.closest(".run-live-approval");
      const buttons = box.querySelectorAll("button");
      buttons.forEach((button) => (button.disabled = true));
      const problem = await this.postDecision(approvalId, decision);
      // approval.resolved may have come first: it already told what was decided.
      if (item.dataset.state !== "pending") return;
      item.querySelector(".run-live-approval-outcome").textContent =
        problem || "Sent; the run resumes shortly.";
      if (problem) buttons.forEach((button) => (button.disabled = false));
    }

    /* Returns null when the decision was taken, else what went wrong. */
    async postDecision(approvalId, decision) {
      const url = `${this.panel.dataset.apiUrl}approvals/${encodeURIComponent(approvalId)}/`;
      let response;
      try {
        response = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            Accept: "application/json",
            "Content-Type": "application/json",
            "X-CSRFToken": this.panel.dataset.csrfToken,
          },
          body: JSON.stringify({ decision: decision, reason: "decided on the run's live page" }),
        });
      } catch (error) {
        return "The decision could not be sent; check the connection and try again.";
      }
      if (response.ok) return null;
      const body = await response.json().catch(() => ({}));
      return (body.error && body.error.message) || `The decision failed (HTTP ${response.status}).`;
    }

    approvalResolved(data) {
      this.setStatus("running");
      const item = this.approvals.get(data.approval_id);
      if (!item) return;
      item.dataset.state = data.decision || data.status;
      const buttons = item.querySelector(".run-live-decision");
      if (buttons) buttons.remove();
      const decided = capitalized(asText(data.decision || data.status));
      const outcome = item.querySelector(".run-live-approval-outcome");
      outcome.textContent = data.reason ? `${decided}: ${data.reason}` : decided;
    }
  }

  function start() {
    const panel = document.getElementById("run-live");
    if (panel) new LiveRun(panel).connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
