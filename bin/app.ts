/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`, settings as context, e.g.
 * `npx cdk deploy -c destination=sns -c alarmEmail=ops@example.com`. cdk-nag's AwsSolutions
 * and Serverless checks run on every synth; a finding fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readAppContext, stackPropsFromContext } from '../lib/app-context.js';
import { UsageMeteringStack } from '../lib/usage-metering-stack.js';

const app = new App();
const context = readAppContext(app.node.getAllContext());
const props = stackPropsFromContext(context);
// No env: the stack is environment-agnostic, so synth needs no account and no lookups.
new UsageMeteringStack(app, props.stackName ?? 'UsageMetering', props);
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app, { verbose: true }),
  new ServerlessChecks(app, { verbose: true }),
);
app.synth();
