import { useState } from 'preact/hooks';
import { html } from './html.js';
import { formatNumber } from './format.js';

export function PageHeader({ title, description, children }) {
  return html`
    <header class="page-header">
      <div>
        <h1>${title}</h1>
        ${description && html`<p class="muted">${description}</p>`}
      </div>
      ${children && html`<div class="actions">${children}</div>`}
    </header>`;
}

export function Section({ title, actions, children, id }) {
  return html`
    <section class="panel" aria-labelledby=${id}>
      <div class="panel-head">
        <h2 id=${id}>${title}</h2>
        ${actions && html`<div class="actions">${actions}</div>`}
      </div>
      ${children}
    </section>`;
}

/** An API or input error, read out by screen readers when it appears. */
export function ErrorNote({ error, children }) {
  if (!error && !children) return null;
  const status = error?.status ? html`<strong>${error.status}</strong> ` : '';
  return html`<p class="note error" role="alert">${status}${children ?? error.message}</p>`;
}

export function Notice({ children, kind = 'ok' }) {
  if (!children) return null;
  return html`<p class=${`note ${kind}`} role="status">${children}</p>`;
}

/** Result of a `useAction()`: its error or its success message. */
export function ActionResult({ action }) {
  if (action.error) return html`<${ErrorNote} error=${action.error} />`;
  return html`<${Notice}>${action.message}<//>`;
}

export function Badge({ kind, children }) {
  return html`<span class=${`badge badge-${kind}`}>${children}</span>`;
}

const STATUS_KINDS = {
  active: 'ok', accepted: 'ok', success: 'ok', pass: 'ok', ok: 'ok', true: 'ok', live: 'ok',
  pending: 'info', proposed: 'warn', warning: 'warn', stale: 'warn', paused: 'warn',
  rejected: 'bad', failure: 'bad', error: 'bad', fail: 'bad', false: 'bad', disabled: 'bad', closed: 'bad',
};

export function StatusBadge({ status }) {
  const text = String(status);
  return html`<${Badge} kind=${STATUS_KINDS[text] ?? 'neutral'}>${text}<//>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

export function Loading({ when }) {
  return when ? html`<span class="loading" role="status">Loading…</span>` : null;
}

/** Big numbers at a glance. */
export function Tiles({ items }) {
  return html`
    <dl class="tiles">
      ${items.map((item) => html`
        <div class="tile" key=${item.label}>
          <dt>${item.label}</dt>
          <dd>${item.value}</dd>
          ${item.hint && html`<dd class="hint">${item.hint}</dd>`}
        </div>`)}
    </dl>`;
}

/** Horizontal bars for comparing a few named quantities (e.g. cost per model). */
export function BarList({ items, format = (v) => formatNumber(v, 2), label }) {
  const max = Math.max(0, ...items.map((item) => Number(item.value) || 0));
  if (items.length === 0) return html`<${Empty}>Nothing to compare yet.<//>`;
  return html`
    <ul class="bars" aria-label=${label}>
      ${items.map((item) => html`
        <li key=${item.label}>
          <span class="bar-label" title=${item.label}>${item.label}</span>
          <span class="bar-track"><span class="bar-fill" style=${{ width: `${max ? (100 * (Number(item.value) || 0)) / max : 0}%` }}></span></span>
          <span class="bar-value">${format(item.value)}</span>
        </li>`)}
    </ul>`;
}

/** A destructive action that asks once more in place (no modal dialog to trap focus). */
export function ConfirmButton({ label, confirmLabel, onConfirm, disabled, class: className = 'danger' }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class=${className} disabled=${disabled} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`
    <span class="confirm">
      <button type="button" class="danger solid" onClick=${() => { setAsking(false); onConfirm(); }}>${confirmLabel ?? `Yes, ${label.toLowerCase()}`}</button>
      <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
    </span>`;
}

export function Field({ label, hint, children, wide }) {
  return html`
    <label class=${wide ? 'field wide' : 'field'}>
      <span class="field-label">${label}</span>
      ${children}
      ${hint && html`<span class="hint">${hint}</span>`}
    </label>`;
}

/** A table that scrolls sideways on narrow screens instead of overflowing the page. */
export function TableWrap({ label, children }) {
  return html`<div class="table-wrap" role="region" aria-label=${label} tabindex="0">${children}</div>`;
}

export function Code({ children }) {
  return html`<code>${children}</code>`;
}

export function Chips({ values }) {
  if (!values || values.length === 0) return html`<span class="muted">—</span>`;
  return html`<span class="chips">${values.map((v) => html`<span class="chip" key=${v}>${v}</span>`)}</span>`;
}
