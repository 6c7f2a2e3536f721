/**
 * Renders CloudFormation values (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub,
 * pseudo parameters) into concrete strings, naming each resource symbolically: its explicit
 * name property if it has one, otherwise its logical id (plus a suffix, so two renderings can
 * share one DynamoDB Local). One renderer renders both a function's environment and its IAM
 * policy, so an ARN the code derives from its environment is the ARN the policy must allow.
 *
 * A type, attribute or function it does not know is an error, never a guess.
 */

/** The template as CDK's `Template.toJSON()` returns it. */
export interface CfnTemplateJson {
  Resources: Record<string, { Type: string; Properties?: any }>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface CfnRendererOptions {
  region: string;
  account: string;
  partition?: string;
  stackName?: string;
  /** Appended to every generated physical name (not to names the template sets). @default '' */
  nameSuffix?: string;
  /**
   * The URL of a queue. SDK v3's SQS client sends each call to its QueueUrl's origin when that
   * differs from its endpoint, so a test that records calls renders queue URLs on its proxy.
   * @default `https://sqs.<region>.amazonaws.com/<account>/<name>`
   */
  queueUrl?: (queue: { region: string; account: string; name: string }) => string;
}

interface Named {
  logicalId: string;
  name: string;
  region: string;
  account: string;
  partition: string;
  properties: Record<string, any>;
  /** The queue URL of this resource (queues only). */
  queueUrl: () => string;
}

interface ResourceKind {
  /** The property that names the resource, if the template may set it. */
  nameProperty?: string;
  /** The name CloudFormation generates when the template sets none (default: the base name). */
  generatedName?: (base: string, properties: Record<string, any>) => string;
  ref: (r: Named) => string;
  attributes: Record<string, (r: Named) => string>;
}

const arn = (r: Named, service: string, resource: string, region = r.region, account = r.account) =>
  `arn:${r.partition}:${service}:${region}:${account}:${resource}`;

/** What the renderer knows of each resource type: its Ref and its attributes. */
const KINDS: Record<string, ResourceKind> = {
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    ref: (r) => r.name,
    attributes: {
      Arn: (r) => arn(r, 'dynamodb', `table/${r.name}`),
      StreamArn: (r) => arn(r, 'dynamodb', `table/${r.name}/stream/1970-01-01T00:00:00.000`),
    },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    generatedName: (base, p) => (p.FifoQueue ? `${base}.fifo` : base),
    ref: (r) => r.queueUrl(),
    attributes: {
      Arn: (r) => arn(r, 'sqs', r.name),
      QueueName: (r) => r.name,
      QueueUrl: (r) => r.queueUrl(),
    },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    generatedName: (base, p) => (p.FifoTopic ? `${base}.fifo` : base),
    ref: (r) => arn(r, 'sns', r.name),
    attributes: {
      TopicArn: (r) => arn(r, 'sns', r.name),
      TopicName: (r) => r.name,
    },
  },
  'AWS::Kinesis::Stream': {
    nameProperty: 'Name',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'kinesis', `stream/${r.name}`) },
  },
  'AWS::Scheduler::ScheduleGroup': {
    nameProperty: 'Name',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'scheduler', `schedule-group/${r.name}`) },
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    ref: (r) => r.name,
    attributes: {
      Arn: (r) => arn(r, 'iam', `role${r.properties.Path ?? '/'}${r.name}`, ''),
      RoleId: (r) => `AROA${r.logicalId.toUpperCase()}`,
    },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    ref: (r) => arn(r, 'iam', `policy${r.properties.Path ?? '/'}${r.name}`, ''),
    attributes: {},
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'lambda', `function:${r.name}`) },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'logs', `log-group:${r.name}:*`) },
  },
  'AWS::KMS::Key': {
    ref: (r) => r.name,
    attributes: {
      Arn: (r) => arn(r, 'kms', `key/${r.name}`),
      KeyId: (r) => r.name,
    },
  },
  'AWS::KMS::Alias': {
    nameProperty: 'AliasName',
    ref: (r) => r.name,
    attributes: {},
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'events', `rule/${r.name}`) },
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'cloudwatch', `alarm:${r.name}`) },
  },
};

/** Marks `Ref: AWS::NoValue`: the property or list element is left out. */
const NO_VALUE = Symbol('AWS::NoValue');

/** Renders template values symbolically; see the file comment. */
export class CfnRenderer {
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  readonly #template: CfnTemplateJson;
  readonly #options: CfnRendererOptions;
  readonly #pseudo: Record<string, string>;

  constructor(template: CfnTemplateJson, options: CfnRendererOptions) {
    this.#template = template;
    this.#options = options;
    this.region = options.region;
    this.account = options.account;
    this.partition = options.partition ?? 'aws';
    const stackName = options.stackName ?? 'UsageMetering';
    this.#pseudo = {
      'AWS::Region': this.region,
      'AWS::AccountId': this.account,
      'AWS::Partition': this.partition,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    };
  }

  /** Renders any value: strings, numbers and booleans stay, intrinsics are resolved, deeply. */
  render(value: unknown): unknown {
    const rendered = this.#render(value);
    return rendered === NO_VALUE ? undefined : rendered;
  }

  /** Renders a value that must come out as a string. */
  renderString(value: unknown): string {
    const rendered = this.render(value);
    if (typeof rendered !== 'string') {
      throw new Error(`${JSON.stringify(value)} does not render to a string`);
    }
    return rendered;
  }

  /** The physical name the renderer gives a resource. */
  nameOf(logicalId: string): string {
    const { kind, resource } = this.#resource(logicalId);
    const properties = resource.Properties ?? {};
    const explicit = kind.nameProperty ? properties[kind.nameProperty] : undefined;
    if (explicit !== undefined) return this.renderString(explicit);
    const base = `${logicalId}${this.#options.nameSuffix ?? ''}`;
    return kind.generatedName ? kind.generatedName(base, properties) : base;
  }

  #render(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => this.#render(v)).filter((v) => v !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.#intrinsic(first[0], first[1]);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const rendered = this.#render(v);
      if (rendered !== NO_VALUE) out[key] = rendered;
    }
    return out;
  }

  #intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.#ref(String(argument));
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument)
          ? [String(argument[0]), String(this.#render(argument[1]))]
          : splitOnce(String(argument), '.');
        return this.#getAtt(id, attribute);
      }
      case 'Fn::Join': {
        const [delimiter, list] = argument as [string, unknown];
        return this.#list(list).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const items = this.#list(list);
        const i = Number(this.#render(index));
        if (!(i >= 0 && i < items.length)) throw new Error(`Fn::Select index ${i} out of range`);
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, source] = argument as [string, unknown];
        return this.renderString(source).split(delimiter);
      }
      case 'Fn::Sub': {
        const [text, variables = {}] = Array.isArray(argument)
          ? (argument as [string, Record<string, unknown>])
          : [String(argument)];
        return text.replace(/\$\{([^}]+)\}/g, (_, expression: string) => {
          if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
          if (expression in variables) return this.renderString(variables[expression]);
          if (expression.includes('.') && !expression.startsWith('AWS::')) {
            const [id, attribute] = splitOnce(expression, '.');
            return this.#getAtt(id, attribute);
          }
          return String(this.#ref(expression));
        });
      }
      case 'Fn::Base64':
        return Buffer.from(this.renderString(argument)).toString('base64');
      default:
        throw new Error(`the renderer does not know ${name}`);
    }
  }

  #list(value: unknown): string[] {
    const rendered = this.#render(value);
    if (!Array.isArray(rendered)) throw new Error(`${JSON.stringify(value)} is not a list`);
    return rendered.map((item) => {
      if (typeof item !== 'string' && typeof item !== 'number') {
        throw new Error(`${JSON.stringify(item)} in a list is not a string`);
      }
      return String(item);
    });
  }

  #ref(id: string): unknown {
    if (id === 'AWS::NoValue') return NO_VALUE;
    const pseudo = this.#pseudo[id];
    if (pseudo !== undefined) return pseudo;
    const parameter = this.#template.Parameters?.[id];
    if (parameter) {
      if (parameter.Default === undefined) throw new Error(`parameter ${id} has no default`);
      return parameter.Default;
    }
    return this.#resource(id).kind.ref(this.#named(id));
  }

  #getAtt(id: string, attribute: string): string {
    const { kind, resource } = this.#resource(id);
    const render = kind.attributes[attribute];
    if (!render)
      throw new Error(`the renderer does not know ${resource.Type} attribute ${attribute}`);
    return render(this.#named(id));
  }

  #queueUrl(name: string): string {
    const queue = { region: this.region, account: this.account, name };
    return (
      this.#options.queueUrl?.(queue) ??
      `https://sqs.${queue.region}.amazonaws.com/${queue.account}/${queue.name}`
    );
  }

  #resource(id: string) {
    const resource = this.#template.Resources[id];
    if (!resource) throw new Error(`no resource or parameter ${id} in the template`);
    const kind = KINDS[resource.Type];
    if (!kind) throw new Error(`the renderer does not know resources of type ${resource.Type}`);
    return { kind, resource };
  }

  #named(id: string): Named {
    const name = this.nameOf(id);
    return {
      logicalId: id,
      name,
      queueUrl: () => this.#queueUrl(name),
      region: this.region,
      account: this.account,
      partition: this.partition,
      properties: this.#template.Resources[id]?.Properties ?? {},
    };
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  if (at === -1) throw new Error(`'${text}' has no '${separator}'`);
  return [text.slice(0, at), text.slice(at + separator.length)];
}
