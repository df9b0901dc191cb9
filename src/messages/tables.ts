import type { Generated } from 'kysely';

export interface MessageRow {
  id: Generated<number>;
  /** The thread: given by the sender, else the first message's own id. */
  thread_id: string;
  /** The sending instance's id, or `human` for the admin (or anyone in local mode). */
  sender: string;
  sender_name: string;
  subject: string;
  /** The body as JSON text (a string body is a JSON string). */
  body: string;
  /** `normal` | `high`. */
  importance: string;
  /** 1 when the sender asked for acknowledgements. */
  ack_required: number;
  created_at: string;
}

/** One recipient of a message, with its receipts. */
export interface MessageRecipientRow {
  message_id: number;
  /** An instance id, or `human`. */
  recipient: string;
  recipient_name: string;
  read_at: string | null;
  acked_at: string | null;
}

declare module '../db/schema.js' {
  interface Database {
    messages: MessageRow;
    message_recipients: MessageRecipientRow;
  }
}
