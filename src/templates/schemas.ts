// Schemas of the templates routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (TemplateInput) their types.
import { StringEnum, Type, type Static } from '../kernel/schema.js';
import { TEMPLATE_KINDS } from './templates.js';

export const templateId = Type.String({ minLength: 1, maxLength: 200 });

export const createBody = Type.Object({
  id: templateId,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String()),
  /** `rules` when absent, as in Go Koor. */
  kind: Type.Optional(StringEnum(TEMPLATE_KINDS, { description: 'rules when absent' })),
  data: Type.Unknown({ description: 'rules: an array of rules; contracts: {spec name: contract} or one contract; bundle: {rules?, contracts?}' }),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
});
export type TemplateInput = Static<typeof createBody>;

const summaryProperties = {
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  kind: Type.String(),
  tags: Type.Array(Type.String()),
  version: Type.Integer({ description: 'Always 1: templates never change once created' }),
  created_at: Type.String(),
  updated_at: Type.String({ description: 'The same as created_at' }),
};

export const summarySchema = Type.Partial(Type.Object(summaryProperties));
export const templateSchema = Type.Partial(Type.Object({ ...summaryProperties, data: Type.Unknown() }));

export const listQuery = Type.Object({ kind: Type.Optional(StringEnum(TEMPLATE_KINDS)), tag: Type.Optional(Type.String()) });

export const applyBody = Type.Object({ project: Type.String({ minLength: 1, maxLength: 256 }) });

export const appliedSchema = Type.Partial(Type.Object({
  /** The template applied. */
  applied: Type.String(),
  project: Type.String(),
  kind: Type.String(),
  rules: Type.Integer(),
  contracts: Type.Integer(),
}));
/** What an apply answers; every field is always there. */
export type ApplyResult = Required<Static<typeof appliedSchema>>;
