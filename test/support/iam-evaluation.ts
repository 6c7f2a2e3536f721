/**
 * Decides whether rendered identity-policy statements allow a request (action, resource,
 * request context), the way IAM does for one principal: an explicit Deny wins, otherwise some
 * Allow must match. Action, NotAction, Resource and NotResource match with IAM's wildcards
 * (`*`, `?`; actions case-insensitively). Conditions: the String*, Arn* and Bool operators,
 * with `IfExists`; a key the request context does not carry is not satisfied, and an operator
 * this module does not know is not satisfied either (and makes a Deny apply), so an unknown
 * condition can only make the check stricter.
 */

/** A policy statement whose values are concrete strings (see CfnRenderer). */
export interface RenderedStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** What one SDK call needs: an action on a resource, in a request context. */
export interface RequiredPermission {
  action: string;
  resource: string;
  /** Condition keys of the request, e.g. `iam:PassedToService`. */
  context?: Record<string, string>;
}

export interface Decision {
  allowed: boolean;
  /** The statement that allowed or denied it. */
  statement?: RenderedStatement;
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM's wildcard match: `*` any run of characters (`/` and `:` too), `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function matchesAction(statement: RenderedStatement, action: string): boolean {
  if (statement.NotAction !== undefined) {
    return !list(statement.NotAction).some((p) => wildcardMatch(p, action, true));
  }
  return list(statement.Action).some((p) => wildcardMatch(p, action, true));
}

function matchesResource(statement: RenderedStatement, resource: string): boolean {
  if (statement.NotResource !== undefined) {
    return !list(statement.NotResource).some((p) => wildcardMatch(p, resource));
  }
  return list(statement.Resource).some((p) => wildcardMatch(p, resource));
}

type Operator = (pattern: string, value: string) => boolean;

const OPERATORS: Record<string, Operator> = {
  StringEquals: (p, v) => p === v,
  StringEqualsIgnoreCase: (p, v) => p.toLowerCase() === v.toLowerCase(),
  StringLike: (p, v) => wildcardMatch(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => wildcardMatch(p, v),
  Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
};

const NEGATED: Record<string, Operator> = {
  StringNotEquals: OPERATORS.StringEquals as Operator,
  StringNotEqualsIgnoreCase: OPERATORS.StringEqualsIgnoreCase as Operator,
  StringNotLike: OPERATORS.StringLike as Operator,
  ArnNotEquals: OPERATORS.ArnEquals as Operator,
  ArnNotLike: OPERATORS.ArnLike as Operator,
};

/** Whether a statement's Condition block holds; `undefined` when it cannot be evaluated. */
function conditionsHold(
  condition: RenderedStatement['Condition'],
  context: Record<string, string>,
): boolean | undefined {
  const byKey = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [rawOperator, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
    const positive = OPERATORS[operator];
    const negative = NEGATED[operator];
    if (!positive && !negative) return undefined;
    for (const [key, expected] of Object.entries(keys)) {
      const value = byKey.get(key.toLowerCase());
      if (value === undefined) {
        if (ifExists) continue;
        // A negated operator on a missing key holds in IAM; a positive one does not.
        if (negative) continue;
        return false;
      }
      const patterns = list(expected as string | string[]).map(String);
      const any = patterns.some((p) => (positive ?? negative)?.(p, value));
      if (positive ? !any : any) return false;
    }
  }
  return true;
}

/** IAM's decision for one request against one principal's identity-policy statements. */
export function decide(
  statements: readonly RenderedStatement[],
  request: RequiredPermission,
): Decision {
  const context = request.context ?? {};
  const applicable = statements.filter(
    (s) => matchesAction(s, request.action) && matchesResource(s, request.resource),
  );
  for (const statement of applicable.filter((s) => s.Effect === 'Deny')) {
    // A Deny whose conditions cannot be evaluated is taken to apply.
    if (conditionsHold(statement.Condition, context) !== false) {
      return { allowed: false, statement };
    }
  }
  const allow = applicable.find(
    (s) => s.Effect === 'Allow' && conditionsHold(s.Condition, context) === true,
  );
  return allow ? { allowed: true, statement: allow } : { allowed: false };
}
