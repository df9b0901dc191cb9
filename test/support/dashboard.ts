import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startListeningApp, type TestApp } from './app.js';
import { startDashboardServer, type DashboardServer } from '../../src/dashboard/server.js';
import type { Config } from '../../src/server/config.js';

export const CHROMIUM_PATH = process.env.KOOR_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');

export interface DashboardStack {
  api: TestApp & { url: string };
  dashboard: DashboardServer;
  close(): Promise<void>;
}

/** A listening API with its own database and a dashboard in front of it, both on free ports. */
export async function startDashboardStack(config: Partial<Config> = {}): Promise<DashboardStack> {
  const api = await startListeningApp(config);
  const { authToken, allowedHosts, allowedOrigins } = api.app.koor.config;
  const safety = { localMode: authToken === '', allowedHosts, allowedOrigins };
  const dashboard = await startDashboardServer({ apiUrl: api.url, host: '127.0.0.1', port: 0, safety });
  return {
    api,
    dashboard,
    async close() {
      await dashboard.close();
      await api.close();
    },
  };
}

/**
 * Headless Debian Chromium. A missing browser fails the test with what to install: CI
 * installs it in .ci/run, and a silent skip would hide the dashboard from the test run.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the dashboard tests need Debian's chromium package ` +
        `(apt-get install -y chromium, as .ci/run does) or KOOR_CHROMIUM=<path to a Chromium binary>`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot as test-artifacts/<name>.png (kept for people to look at). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
