import { Injectable, type Logger } from '@nestjs/common';

/**
 * A gate decision to be audited (the data of an `AccessAudited` event). For now
 * only refusals are reported: 403 by RolesGuard, 401 by DenyByDefaultGuard.
 */
export interface AccessDecision {
  /** Lower-case wallet address of the caller, or `anonymous` when no valid token was presented. */
  readonly actor: string;
  /** The route refused, as declared (`/audit`, `/consent-requests/:id/decline`): no ids, no query. */
  readonly resource: string;
  /** The HTTP method (`GET`, `POST`, ...). */
  readonly action: string;
  readonly outcome: 'denied';
  /** Why, as answered to the caller (e.g. `this route requires the auditor role`). */
  readonly reason: string;
  readonly patient: null;
  readonly purpose: null;
}

/**
 * Port: records gate decisions in the audit trail. Bind an implementation with
 * AuthModule.forRoot({ accessDecisionRecorder }); the default drops them.
 */
export abstract class AccessDecisionRecorder {
  abstract record(decision: AccessDecision): Promise<void>;
}

/** The default until the audit stream is bound: decisions are not recorded. */
@Injectable()
export class NoopAccessDecisionRecorder extends AccessDecisionRecorder {
  record(_decision: AccessDecision): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Records a refusal without letting a recorder failure change the answer: the
 * request is refused either way, and the failure is logged (without the reason
 * text, which stays in the audit trail).
 */
export async function recordDenial(
  recorder: AccessDecisionRecorder,
  decision: AccessDecision,
  logger: Pick<Logger, 'error'>,
): Promise<void> {
  try {
    await recorder.record(decision);
  } catch (error) {
    logger.error(
      `Could not record a denied ${decision.action} ${decision.resource}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The route (as declared, without ids or query) and method of a request, for an AccessDecision. */
export function describeRoute(request: { method: string; url: string; routeOptions?: { url?: string } }): {
  resource: string;
  action: string;
} {
  const declared = request.routeOptions?.url;
  const resource = (declared ?? request.url.split('?')[0] ?? '/').slice(0, 200) || '/';
  return { resource, action: request.method };
}
