import type { VersionedMigration } from '../migrate.js';
import { addIdColumn, bigintType } from '../columns.js';

const migration: VersionedMigration = ({ engine }) => ({
  async up(db) {
    await addIdColumn(db.schema.createTable('messages'), engine)
      .addColumn('thread_id', 'text', (c) => c.notNull())
      .addColumn('sender', 'text', (c) => c.notNull())
      .addColumn('sender_name', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('importance', 'text', (c) => c.notNull().defaultTo('normal'))
      .addColumn('ack_required', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('messages_thread').on('messages').columns(['thread_id', 'id']).execute();
    await db.schema.createIndex('messages_created_at').on('messages').column('created_at').execute();
    // One row per recipient: its receipts. Deleted with the message (retention).
    await db.schema
      .createTable('message_recipients')
      .addColumn('message_id', bigintType(engine), (c) => c.notNull().references('messages.id').onDelete('cascade'))
      .addColumn('recipient', 'text', (c) => c.notNull())
      .addColumn('recipient_name', 'text', (c) => c.notNull())
      .addColumn('read_at', 'text')
      .addColumn('acked_at', 'text')
      .addPrimaryKeyConstraint('message_recipients_pk', ['message_id', 'recipient'])
      .execute();
    // Inboxes: a recipient's messages by id, and its unread ones.
    await db.schema.createIndex('message_recipients_inbox').on('message_recipients').columns(['recipient', 'message_id']).execute();
  },
});
export default migration;
