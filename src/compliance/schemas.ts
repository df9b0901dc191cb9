// Schemas of the compliance routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (ComplianceViolation, ComplianceRun) their types.
import { Type, type Static } from '../kernel/schema.js';

const violationProperties = {
  /** The endpoint the violation was found on ('' for the contract document itself). */
  endpoint: Type.String(),
  path: Type.String(),
  message: Type.String(),
};
const violationSchema = Type.Object(violationProperties);
export type ComplianceViolation = Static<typeof violationSchema>;

const runProperties = {
  id: Type.Integer(),
  instance_id: Type.String(),
  project: Type.String(),
  contract: Type.String(),
  pass: Type.Boolean(),
  violations: Type.Array(Type.Partial(violationSchema)),
  run_at: Type.String(),
};

/** A stored check; the answer's schema leaves every field optional, each is always there. */
export const runSchema = Type.Partial(Type.Object(runProperties));
export type ComplianceRun = Omit<Required<Static<typeof runSchema>>, 'violations'> & { violations: ComplianceViolation[] };

export const historyQuery = Type.Object({
  instance_id: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
});

export const runResultSchema = Type.Partial(Type.Object({ checked: Type.Boolean(), runs: Type.Array(runSchema), count: Type.Integer() }));
