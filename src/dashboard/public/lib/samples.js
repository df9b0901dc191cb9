// Samples GET /api/metrics in the background so the overview can draw token-tax savings over
// time. Samples live in sessionStorage: they survive page switches and reloads of this tab.
import { api } from './api.js';

const KEY = 'koor.metricSamples';
const EVERY_MS = 15_000;
const KEEP = 480; // two hours at one sample every 15 s

let samples = load();
const listeners = new Set();
let timer = null;

function load() {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** Records one /api/metrics answer (also called by pages that fetched it anyway). */
export function recordMetrics(metrics) {
  const tax = metrics?.token_tax;
  if (!tax) return;
  const sample = {
    t: Date.now(),
    saved: Number(tax.rest_tokens_saved) || 0,
    percent: Number(tax.savings_percent) || 0,
    rest: Number(tax.rest_calls) || 0,
    mcp: Number(tax.mcp_calls) || 0,
    lastEventId: Number(metrics.last_event_id) || 0,
  };
  const last = samples[samples.length - 1];
  // Two answers within a second add nothing to the chart.
  if (last && sample.t - last.t < 1000) samples[samples.length - 1] = sample;
  else samples.push(sample);
  if (samples.length > KEEP) samples = samples.slice(-KEEP);
  sessionStorage.setItem(KEY, JSON.stringify(samples));
  for (const listener of listeners) listener(samples);
}

async function sampleOnce() {
  try {
    recordMetrics(await api.get('/api/metrics'));
  } catch {
    // The overview shows API errors itself; the sampler just tries again later.
  }
}

export function startSampling() {
  if (timer) return;
  sampleOnce();
  timer = setInterval(sampleOnce, EVERY_MS);
}

export function stopSampling() {
  clearInterval(timer);
  timer = null;
}

export function getSamples() {
  return samples;
}

export function subscribeSamples(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
