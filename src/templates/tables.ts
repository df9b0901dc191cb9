export interface TemplateRow {
  id: string;
  name: string;
  description: string;
  kind: string;
  /** The payload as JSON text. */
  data: string;
  /** JSON array of tags. */
  tags: string;
  created_at: string;
}

declare module '../db/schema.js' {
  interface Database {
    templates: TemplateRow;
  }
}
