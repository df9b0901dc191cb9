import { test } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { markFromDatabase, storageTrouble } from './storage-trouble.js';

const pgError = (code: string, message: string) => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
const marked = (err: Error) => {
  markFromDatabase(err);
  return err;
};

test('database failures are named by what they mean for a client, and for how long', () => {
  const cases: Array<[unknown, { status: number; reason: string; lasting: boolean; message: RegExp }]> = [
    [new SqliteDatabase.SqliteError('database or disk is full', 'SQLITE_FULL'), { status: 507, reason: 'disk_full', lasting: true, message: /^disk full: .*SQLITE_FULL/ }],
    [new SqliteDatabase.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'), { status: 503, reason: 'database_unavailable', lasting: true, message: /SQLITE_IOERR_WRITE/ }],
    [new SqliteDatabase.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY'), { status: 503, reason: 'database_unavailable', lasting: true, message: /read-only/ }],
    [new SqliteDatabase.SqliteError('database is locked', 'SQLITE_BUSY'), { status: 503, reason: 'database_busy', lasting: false, message: /retry/ }],
    [new SqliteDatabase.SqliteError('UNIQUE constraint failed: t.id', 'SQLITE_CONSTRAINT_PRIMARYKEY'), { status: 503, reason: 'database_error', lasting: false, message: /UNIQUE constraint failed/ }],
    [pgError('53100', 'could not extend file'), { status: 507, reason: 'disk_full', lasting: true, message: /^disk full: .*53100/ }],
    [pgError('57P01', 'terminating connection due to administrator command'), { status: 503, reason: 'database_unavailable', lasting: true, message: /restarting or shutting down/ }],
    [pgError('40001', 'could not serialize access'), { status: 503, reason: 'database_busy', lasting: false, message: /retry/ }],
    [marked(new Error('Connection terminated unexpectedly')), { status: 503, reason: 'database_unavailable', lasting: true, message: /Connection terminated unexpectedly/ }],
    [marked(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), { status: 503, reason: 'database_unavailable', lasting: true, message: /ECONNREFUSED/ }],
  ];
  for (const [err, expected] of cases) {
    const trouble = storageTrouble(err);
    assert.ok(trouble, String(err));
    assert.equal(trouble.status, expected.status, String(err));
    assert.equal(trouble.reason, expected.reason, String(err));
    assert.equal(trouble.lasting, expected.lasting, String(err));
    assert.match(trouble.message, expected.message);
  }
});

test('the same connection error met talking to another server is not taken for the database\'s', () => {
  assert.equal(storageTrouble(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' })), undefined);
  assert.equal(storageTrouble(new Error('something else')), undefined);
  assert.equal(storageTrouble('not an error'), undefined);
});
