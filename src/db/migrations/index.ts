import type { VersionedMigration } from '../migrate.js';
import state from './001_state.js';
import specs from './002_specs.js';
import events from './003_events.js';
import webhooks from './004_webhooks.js';
import instances from './005_instances.js';
import rules from './006_rules.js';
import compliance from './007_compliance.js';
import templates from './008_templates.js';
import audit from './009_audit.js';
import metrics from './010_metrics.js';
import llm from './011_llm.js';
import deliveriesByReference from './012_webhook_deliveries_by_reference.js';
import storageProbe from './013_storage_probe.js';
import leases from './014_leases.js';
import messages from './015_messages.js';
import eventConsumers from './016_event_consumers.js';
import leaderTerms from './017_leader_terms.js';
import auditImported from './018_audit_imported.js';

/** Every migration, applied in name order. Never rename or edit one that has shipped: add a new one. */
export const MIGRATIONS: Record<string, VersionedMigration> = {
  '001_state': state,
  '002_specs': specs,
  '003_events': events,
  '004_webhooks': webhooks,
  '005_instances': instances,
  '006_rules': rules,
  '007_compliance': compliance,
  '008_templates': templates,
  '009_audit': audit,
  '010_metrics': metrics,
  '011_llm': llm,
  '012_webhook_deliveries_by_reference': deliveriesByReference,
  '013_storage_probe': storageProbe,
  '014_leases': leases,
  '015_messages': messages,
  '016_event_consumers': eventConsumers,
  '017_leader_terms': leaderTerms,
  '018_audit_imported': auditImported,
};
