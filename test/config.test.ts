import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../src/server/config.js';

// loadConfig reads ./settings.json when no --config is given, so every test runs in its own
// empty directory.
const home = mkdtempSync(join(tmpdir(), 'koor-config-'));
process.chdir(home);
test.after(() => {
  process.chdir(tmpdir());
  rmSync(home, { recursive: true, force: true });
});

function writeSettings(name: string, settings: unknown): string {
  const path = join(home, name);
  writeFileSync(path, typeof settings === 'string' ? settings : JSON.stringify(settings));
  return path;
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected the configuration to be refused');
}

test('loadConfig: the defaults of SPEC §1 with no flags, env or file', () => {
  const config = loadConfig([], {});
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.equal(config.bind, 'localhost:9800');
  assert.equal(config.dashboardBind, 'localhost:9847');
  assert.equal(config.dataDir, '.');
  assert.equal(config.authToken, '');
  assert.equal(config.logLevel, 'info');
});

test('loadConfig: flags beat env, env beats the file, the file beats defaults', () => {
  const file = writeSettings('precedence.json', {
    bind: '127.0.0.1:1111',
    dashboard_bind: '127.0.0.1:1112',
    data_dir: '/from/file',
    auth_token: 'file-token',
    log_level: 'debug',
  });
  const env = { KOOR_BIND: '127.0.0.1:2221', KOOR_DASHBOARD_BIND: '127.0.0.1:2222', KOOR_LOG_LEVEL: 'warn' };
  const config = loadConfig(['--config', file, '--bind', '127.0.0.1:3331'], env);
  assert.equal(config.bind, '127.0.0.1:3331', 'flag');
  assert.equal(config.dashboardBind, '127.0.0.1:2222', 'env');
  assert.equal(config.logLevel, 'warn', 'env');
  assert.equal(config.dataDir, '/from/file', 'file');
  assert.equal(config.authToken, 'file-token', 'file');
  assert.equal(config.eventHistory, DEFAULT_CONFIG.eventHistory, 'default');
});

test('loadConfig: ./settings.json is read when present, and an empty dashboard bind disables it', () => {
  writeSettings('settings.json', { log_level: 'error', data_dir: 'here' });
  try {
    const config = loadConfig(['--dashboard-bind', ''], {});
    assert.equal(config.logLevel, 'error');
    assert.equal(config.dataDir, 'here');
    assert.equal(config.dashboardBind, '');
  } finally {
    rmSync(join(home, 'settings.json'));
  }
});

test('loadConfig: durations and counts are parsed', () => {
  const config = loadConfig(['--liveness-interval', '90s', '--event-history', '25'], { KOOR_STALE_AFTER: '2m' });
  assert.equal(config.livenessIntervalMs, 90_000);
  assert.equal(config.staleAfterMs, 120_000);
  assert.equal(config.eventHistory, 25);
});

test('loadConfig: --work-budget (default 5s) and --import-limit (default 256MB, sizes in KB/MB/GB)', () => {
  const defaults = loadConfig([], {});
  assert.equal(defaults.workBudgetMs, 5_000);
  assert.equal(defaults.importLimitBytes, 256 * 1024 * 1024);
  const set = loadConfig(['--work-budget', '750ms', '--import-limit', '1GB'], {});
  assert.equal(set.workBudgetMs, 750);
  assert.equal(set.importLimitBytes, 1024 ** 3);
  assert.equal(loadConfig([], { KOOR_IMPORT_LIMIT: '512kb' }).importLimitBytes, 512 * 1024);
  assert.equal(loadConfig(['--config', writeSettings('limits.json', { import_limit: '64MB', work_budget: '2s' })], {}).importLimitBytes, 64 * 1024 * 1024);
  assert.match(configError(() => loadConfig(['--import-limit', 'lots'], {})), /--import-limit "lots": expected a size like 500KB, 256MB or 2GB/);
  assert.match(configError(() => loadConfig(['--import-limit', '0'], {})), /--import-limit "0"/);
  assert.match(configError(() => loadConfig(['--work-budget', 'forever'], {})), /--work-budget "forever"/);
});

test('loadConfig: bad values are refused with one line naming the setting and its source', () => {
  assert.match(configError(() => loadConfig(['--bind', 'localhost:99999'], {})), /--bind "localhost:99999".*port/);
  assert.match(configError(() => loadConfig(['--bind', 'nocolon'], {})), /--bind "nocolon"/);
  assert.match(configError(() => loadConfig(['--log-level', 'loud'], {})), /--log-level "loud".*debug, info, warn, error/);
  assert.match(configError(() => loadConfig([], { KOOR_LOG_LEVEL: 'shout' })), /KOOR_LOG_LEVEL "shout"/);
  assert.match(configError(() => loadConfig([], { KOOR_BIND: ':70000' })), /KOOR_BIND/);
  assert.match(configError(() => loadConfig(['--config', '/nonexistent.json'], {})), /cannot read config file \/nonexistent\.json/);
  const broken = writeSettings('broken.json', '{"bind": ');
  assert.match(configError(() => loadConfig(['--config', broken], {})), /cannot parse config file .*broken\.json/);
  const notObject = writeSettings('array.json', '[1]');
  assert.match(configError(() => loadConfig(['--config', notObject], {})), /array\.json/);
  const badInFile = writeSettings('bad.json', { log_level: 'verbose' });
  assert.match(configError(() => loadConfig(['--config', badInFile], {})), /log_level in .*bad\.json.*"verbose"/);
  assert.match(configError(() => loadConfig(['--no-such-flag', 'x'], {})), /no-such-flag/);
  assert.match(configError(() => loadConfig(['--event-history', '0'], {})), /--event-history "0"/);
  assert.match(configError(() => loadConfig(['--prune-interval', 'soon'], {})), /--prune-interval "soon"/);
  assert.match(configError(() => loadConfig([], { KOOR_LEADER_RETRY: '0s' })), /KOOR_LEADER_RETRY "0s"/);
});

test('loadConfig: --request-timeout (default 5 minutes) from a flag, the environment or the file', () => {
  assert.equal(loadConfig([], {}).requestTimeoutMs, 300_000);
  assert.equal(loadConfig(['--request-timeout', '30s'], {}).requestTimeoutMs, 30_000);
  assert.equal(loadConfig([], { KOOR_REQUEST_TIMEOUT: '2m' }).requestTimeoutMs, 120_000);
  assert.equal(loadConfig(['--config', writeSettings('timeout.json', { request_timeout: '90s' })], {}).requestTimeoutMs, 90_000);
  assert.match(configError(() => loadConfig(['--request-timeout', 'never'], {})), /--request-timeout "never"/);
});

test('loadConfig: --leader-retry (PostgreSQL replicas) from a flag, the environment or the file', () => {
  assert.equal(loadConfig(['--leader-retry', '1500ms'], {}).leaderRetryMs, 1500);
  assert.equal(loadConfig([], { KOOR_LEADER_RETRY: '2s' }).leaderRetryMs, 2000);
  assert.equal(loadConfig(['--config', writeSettings('leader.json', { leader_retry: '1m' })], {}).leaderRetryMs, 60_000);
});

test('loadConfig: a bad env value is reported even when other settings come from flags', () => {
  assert.match(configError(() => loadConfig(['--log-level', 'debug'], { KOOR_BIND: 'x:99999' })), /KOOR_BIND "x:99999"/);
});

test('loadConfig: an unknown key in the config file is refused with the key named; koor-cli keys are not settings but not mistakes', () => {
  const typo = writeSettings('typo.json', { bind: 'localhost:9800', log_levle: 'debug' });
  assert.match(configError(() => loadConfig(['--config', typo], {})), /unknown setting "log_levle" in .*typo\.json.*see koor-server --help/);
  const near = writeSettings('near.json', { dashboardBind: '' });
  assert.match(configError(() => loadConfig(['--config', near], {})), /unknown setting "dashboardBind".*did you mean "dashboard_bind"/);
  // A workspace's settings.json holds koor-cli's keys beside the server's.
  const shared = writeSettings('shared.json', { bind: 'localhost:9811', server: 'http://localhost:9811', token: 't', project: 'shop', agent: 'web', follow: ['shop.**'] });
  assert.equal(loadConfig(['--config', shared], {}).bind, 'localhost:9811');
});

test('loadConfig: logs are readable text unless --log-format json', () => {
  assert.equal(loadConfig([], {}).logFormat, 'text');
  assert.equal(loadConfig(['--log-format', 'json'], {}).logFormat, 'json');
  assert.equal(loadConfig([], { KOOR_LOG_FORMAT: 'json' }).logFormat, 'json');
  assert.match(configError(() => loadConfig(['--log-format', 'xml'], {})), /--log-format "xml": expected one of text, json/);
});

test('loadConfig: --allowed-hosts and --allowed-origins are lists, from flags, env or the config file', () => {
  const flags = loadConfig(['--allowed-hosts', 'Koor.Example.com, box.lan,::1', '--allowed-origins', 'https://Koor.Example.com:443,http://localhost:3000'], {});
  assert.deepEqual(flags.allowedHosts, ['koor.example.com', 'box.lan', '[::1]']);
  assert.deepEqual(flags.allowedOrigins, ['https://koor.example.com', 'http://localhost:3000']);
  const env = loadConfig([], { KOOR_ALLOWED_HOSTS: '[fd00::5]', KOOR_ALLOWED_ORIGINS: 'http://box.lan:9847' });
  assert.deepEqual(env.allowedHosts, ['[fd00::5]']);
  assert.deepEqual(env.allowedOrigins, ['http://box.lan:9847']);
  const file = writeSettings('lists.json', { allowed_hosts: ['box.lan'], allowed_origins: 'https://a.example, https://b.example' });
  const fromFile = loadConfig(['--config', file], {});
  assert.deepEqual(fromFile.allowedHosts, ['box.lan']);
  assert.deepEqual(fromFile.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.deepEqual(loadConfig([], {}).allowedHosts, []);
  const repeated = loadConfig(['--allowed-hosts', 'a.lan', '--allowed-hosts', 'b.lan,c.lan'], {});
  assert.deepEqual(repeated.allowedHosts, ['a.lan', 'b.lan', 'c.lan']);
});

test('loadConfig: an allowed host with a port, or an origin with a path, is refused naming it', () => {
  assert.equal(
    configError(() => loadConfig(['--allowed-hosts', 'box.lan:8080'], {})),
    'invalid --allowed-hosts "box.lan:8080": give the host name without a port (any port is accepted)',
  );
  assert.match(configError(() => loadConfig(['--allowed-hosts', 'http://box.lan'], {})), /invalid --allowed-hosts "http:\/\/box.lan": expected a host name/);
  assert.match(configError(() => loadConfig([], { KOOR_ALLOWED_ORIGINS: 'https://a.example/app' })), /^invalid KOOR_ALLOWED_ORIGINS "https:\/\/a.example\/app": expected an origin/);
  assert.match(configError(() => loadConfig(['--allowed-origins', 'localhost:3000'], {})), /expected an origin such as https:\/\/koor.example.com/);
  const file = writeSettings('bad-list.json', { allowed_hosts: [42] });
  assert.match(configError(() => loadConfig(['--config', file], {})), /invalid allowed_hosts in .*: expected a comma-separated list or an array of strings/);
});
