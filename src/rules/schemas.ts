// JSON schemas shared by the rules routes (and the templates domain, which stores rules).

export const ruleInputSchema = {
  type: 'object',
  required: ['rule_id', 'pattern'],
  properties: {
    project: { type: 'string', minLength: 1, maxLength: 200 },
    rule_id: { type: 'string', minLength: 1, maxLength: 200 },
    severity: { type: 'string', enum: ['error', 'warning'] },
    match_type: { type: 'string', enum: ['regex', 'missing', 'custom'] },
    pattern: { type: 'string', minLength: 1, maxLength: 10_000 },
    message: { type: 'string' },
    applies_to: { type: 'array', items: { type: 'string' } },
    stack: { type: 'string' },
    source: { type: 'string', enum: ['local', 'learned', 'external'] },
    status: { type: 'string' },
    proposed_by: { type: 'string' },
    context: { type: 'string' },
    created_at: { type: 'string' },
  },
} as const;

export const ruleSchema = {
  type: 'object',
  properties: {
    project: { type: 'string' },
    rule_id: { type: 'string' },
    severity: { type: 'string' },
    match_type: { type: 'string' },
    pattern: { type: 'string' },
    message: { type: 'string' },
    applies_to: { type: 'array', items: { type: 'string' } },
    stack: { type: 'string' },
    source: { type: 'string' },
    status: { type: 'string' },
    proposed_by: { type: 'string' },
    context: { type: 'string' },
    created_at: { type: 'string' },
  },
} as const;

export const ruleStatusSchema = {
  type: 'object',
  properties: { project: { type: 'string' }, rule_id: { type: 'string' }, status: { type: 'string' } },
} as const;

export const projectParam = { type: 'string', minLength: 1, maxLength: 200 } as const;
