import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest } from '../kernel/errors.js';
import { findInstance, listInstances, type Instance } from '../instances/instances.js';

/** The mailbox of the admin (and of anyone in local mode): the person steering the agents. */
export const HUMAN = 'human';

export const MAX_ADDRESSES = 100;

/** A resolved recipient. */
export interface Mailbox {
  id: string;
  name: string;
}

/** Whose mailbox a caller reads and writes from: its instance, or the person's. */
export const mailboxOf = (actor: Actor) => actor.instanceId ?? HUMAN;

/** The caller as a sender: its id and the name a person reads. */
export async function senderOf(ctx: AppContext, actor: Actor): Promise<Mailbox> {
  if (!actor.instanceId) return { id: HUMAN, name: HUMAN };
  return { id: actor.instanceId, name: (await findInstance(ctx, actor.instanceId))?.name ?? actor.instanceId };
}

/**
 * Turns the `to` list into recipients (SPEC §17): an instance id, an instance name (every
 * instance of that name), `capability:X`, `workspace:W`, `*` (everyone), or `human` (the
 * person: the admin's inbox). Group addresses leave out the sender. An address that reaches
 * nobody is a 400 naming it. Recipients are listed once each, in address order.
 */
export async function resolveAddresses(ctx: AppContext, to: readonly string[], sender: Mailbox): Promise<Mailbox[]> {
  if (to.length === 0) throw badRequest('to must name at least one recipient');
  if (to.length > MAX_ADDRESSES) throw badRequest(`to has ${to.length} addresses; the limit is ${MAX_ADDRESSES}`);
  let registry: Instance[] | undefined;
  const instances = async () => (registry ??= await listInstances(ctx));
  const recipients = new Map<string, Mailbox>();
  for (const raw of to) {
    const address = typeof raw === 'string' ? raw.trim() : '';
    if (address === '') throw badRequest('each address in to must be a non-empty string');
    let found: Mailbox[];
    let group = true;
    if (address === HUMAN) {
      found = [{ id: HUMAN, name: HUMAN }];
      group = false;
    } else if (address === '*') {
      found = await instances();
    } else if (address.startsWith('capability:')) {
      const capability = address.slice('capability:'.length);
      found = (await instances()).filter((i) => i.capabilities.includes(capability));
    } else if (address.startsWith('workspace:')) {
      const workspace = address.slice('workspace:'.length);
      found = (await instances()).filter((i) => i.workspace === workspace);
    } else {
      group = false;
      const byId = (await instances()).find((i) => i.id === address);
      found = byId ? [byId] : (await instances()).filter((i) => i.name === address);
    }
    const reached = found.map(({ id, name }) => ({ id, name })).filter((m) => !group || m.id !== sender.id);
    if (reached.length === 0) {
      throw badRequest(found.length > 0 ? `address "${address}" reaches nobody but the sender` : `address "${address}" matches no instance`);
    }
    for (const mailbox of reached) if (!recipients.has(mailbox.id)) recipients.set(mailbox.id, mailbox);
  }
  return [...recipients.values()];
}
