/**
 * The console's hosting and sign-in, proven on the synthesized template: a private bucket
 * behind CloudFront with the API on the same origin, a strict CSP, a Cognito user pool whose
 * two clients' tokens the API's JWT authorizer accepts, and the settings that refuse what
 * cannot work. The console bundle is a stub folder (a fixture), not the console's own build.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAppContext, stackPropsFromContext } from '../../lib/app-context.js';
import { cognitoDomainPrefix } from '../../lib/constructs/api-sign-in.js';
import { contentSecurityPolicy, SPA_FALLBACK } from '../../lib/constructs/console-hosting.js';
import { DEFAULT_SCOPE_NAMES, scopesFor } from '../../shared/http/access-levels.js';
import { ALL_GATEWAY_ROUTES, routeKeyOf } from '../../shared/http/route-specs.js';
import { type Synthesized, stubConsole, synthStack } from './support.js';

const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

const only = <T>(synth: Synthesized, type: string): T & { id: string } => {
  const found = Object.entries(synth.template.findResources(type));
  expect(found, type).toHaveLength(1);
  const [id, resource] = found[0] as [string, T];
  return { ...resource, id };
};

describe('console off (the default)', () => {
  it('creates no bucket, distribution or user pool, and keeps IAM authorization', () => {
    const synth = synthStack();
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::CloudFront::Distribution',
      'AWS::Cognito::UserPool',
      'Custom::CDKBucketDeployment',
    ]) {
      synth.template.resourceCountIs(type, 0);
    }
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      AuthorizationType: 'AWS_IAM',
    });
  });
});

describe('console on', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthStack({ metering: { console: { assetPath: stubConsole() } } });
  });

  it('keeps the bundle in a private, encrypted bucket that only takes TLS', () => {
    const bucket = only<{ Properties: Record<string, unknown> }>(synth, 'AWS::S3::Bucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket.Properties.BucketEncryption)).toContain('AES256');
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          // Origin access control: CloudFront's service principal, for this distribution only.
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
          }),
        ]),
      },
    });
    synth.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  it('serves the bundle by default and the API paths, uncached, from the HTTP API', () => {
    const { Properties } = only<{ Properties: { DistributionConfig: any } }>(
      synth,
      'AWS::CloudFront::Distribution',
    );
    const config = Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: expect.anything() },
    ]);
    const s3Origin = config.Origins.find((o: any) => o.S3OriginConfig);
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(config.CacheBehaviors).toHaveLength(1);
    const api = config.CacheBehaviors[0];
    expect(api.PathPattern).toBe('usage-metering/v1/*');
    expect(api.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(api.AllowedMethods).toEqual(
      expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS']),
    );
    expect(api.CachePolicyId).toBe(CACHING_DISABLED);
    expect(api.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
    const apiOrigin = config.Origins.find((o: any) => o.Id === api.TargetOriginId);
    expect(apiOrigin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    expect(JSON.stringify(apiOrigin.DomainName)).toContain('execute-api');
    expect(JSON.stringify(apiOrigin.DomainName)).toContain(
      synth.stack.getLogicalId(synth.stack.metering.api.httpApi.node.defaultChild as never),
    );
    expect(api.ResponseHeadersPolicyId).toEqual(
      config.DefaultCacheBehavior.ResponseHeadersPolicyId,
    );
  });

  it('sends a strict Content-Security-Policy and the usual security headers', () => {
    const policy = only<{ Properties: any }>(synth, 'AWS::CloudFront::ResponseHeadersPolicy');
    const headers = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(synth.stack.resolve(headers.ContentSecurityPolicy));
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    // connect-src: this origin and Cognito (the user pool's domain and its OIDC issuer).
    expect(csp).toMatch(/connect-src 'self' https:\/\/.*amazoncognito\.com.*cognito-idp\./);
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 63_072_000 });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
  });

  it('answers index.html for paths that are not files (the SPA fallback function)', () => {
    const handler = new Function(`${SPA_FALLBACK}; return handler;`)() as (event: {
      request: { uri: string };
    }) => { uri: string };
    const uriFor = (uri: string) => handler({ request: { uri } }).uri;
    expect(uriFor('/')).toBe('/index.html');
    expect(uriFor('/corrections')).toBe('/index.html');
    expect(uriFor('/meters/5b0c/records')).toBe('/index.html');
    expect(uriFor('/assets/app-3f2a.js')).toBe('/assets/app-3f2a.js');
    expect(uriFor('/config.json')).toBe('/config.json');
    const fn = only<{ Properties: any }>(synth, 'AWS::CloudFront::Function');
    expect(fn.Properties.FunctionCode).toBe(SPA_FALLBACK);
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
  });

  it('deploys the bundle and a config.json naming the sign-in, and invalidates the cache', () => {
    const deployment = only<{ Properties: any }>(synth, 'Custom::CDKBucketDeployment');
    expect(deployment.Properties.DistributionPaths).toEqual(['/*']);
    expect(deployment.Properties.Prune).toBe(true);
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
    const markers = JSON.stringify(deployment.Properties.SourceMarkers);
    const consoleClient = synth.stack.getLogicalId(
      synth.stack.metering.signIn?.consoleClient?.node.defaultChild as never,
    );
    expect(markers).toContain(consoleClient);
    expect(markers).toContain('cognito-idp.');
    expect(markers).toContain('DomainName');
    const config = synth.stack.metering.console?.config;
    expect(config?.apiBaseUrl).toBe('');
    expect(config?.auth?.scopes.split(' ')).toEqual([
      'openid',
      'email',
      ...Object.values(DEFAULT_SCOPE_NAMES),
    ]);
  });

  it('signs people in with code + PKCE (public client) and programs with client credentials', () => {
    synth.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12 }) },
    });
    synth.template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'usage-metering',
      Scopes: ['read', 'write', 'admin'].map((name) => Match.objectLike({ ScopeName: name })),
    });
    const clients = Object.values(synth.template.findResources('AWS::Cognito::UserPoolClient')).map(
      (c) => c.Properties,
    );
    expect(clients).toHaveLength(2);
    const people = clients.find((c) => c.AllowedOAuthFlows?.includes('code'));
    const machines = clients.find((c) => c.AllowedOAuthFlows?.includes('client_credentials'));
    expect(people.GenerateSecret).toBe(false);
    expect(people.AllowedOAuthFlows).toEqual(['code']);
    expect(JSON.stringify(people.CallbackURLs)).toContain('DomainName');
    expect(people.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(machines.GenerateSecret).toBe(true);
    expect(machines.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(machines.AllowedOAuthFlows).toEqual(['client_credentials']);
    for (const client of [people, machines]) {
      const scopes = JSON.stringify(client.AllowedOAuthScopes);
      for (const level of ['read', 'write', 'admin']) expect(scopes).toContain(`/${level}`);
    }
  });

  it("lets the JWT authorizer take both clients' tokens and check each route's scopes", () => {
    const authorizer = only<{ Properties: any }>(synth, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.Properties.AuthorizerType).toBe('JWT');
    const ids = ['MachineClient', 'ConsoleClient'].map((name) =>
      synth.stack.getLogicalId(
        synth.stack.metering.signIn?.userPool.node.findAll().find((c) => c.node.id === name)?.node
          .defaultChild as never,
      ),
    );
    expect(authorizer.Properties.JwtConfiguration.Audience).toEqual(ids.map((id) => ({ Ref: id })));
    expect(JSON.stringify(authorizer.Properties.JwtConfiguration.Issuer)).toContain(
      'https://cognito-idp.',
    );
    const routes = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route'));
    // HEAD beside every GET and ANY per path (the 405s) are routes too, each with its scopes.
    expect(routes).toHaveLength(ALL_GATEWAY_ROUTES.length);
    for (const spec of ALL_GATEWAY_ROUTES) {
      const route = routes.find((r) => r.Properties.RouteKey === routeKeyOf(spec));
      expect(route?.Properties.AuthorizationType, spec.path).toBe('JWT');
      expect(route?.Properties.AuthorizationScopes).toEqual(scopesFor(spec.access));
    }
  });

  it('accepts tokens of further clients made outside the stack, when listed', () => {
    const listed = synthStack({
      metering: { apiAuthorization: { kind: 'cognito', clientIds: ['outside-client'] } },
    });
    const authorizer = only<{ Properties: any }>(listed, 'AWS::ApiGatewayV2::Authorizer');
    const audience = authorizer.Properties.JwtConfiguration.Audience;
    expect(audience).toHaveLength(2);
    expect(audience[1]).toBe('outside-client');
    // Without a console: the machine client only, and no hosting.
    listed.template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    listed.template.resourceCountIs('AWS::CloudFront::Distribution', 0);
  });

  it('names the Cognito domain after the stack (with its stage) and the account', () => {
    const domain = only<{ Properties: any }>(synth, 'AWS::Cognito::UserPoolDomain');
    expect(domain.Properties.Domain).toEqual({
      'Fn::Join': ['-', ['usagemetering', { Ref: 'AWS::AccountId' }]],
    });
  });

  it('outputs the console URL, user pool, client ids, token endpoint and config URL', () => {
    const outputs = Object.keys(synth.json.Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ConsoleUrl',
        'ConsoleConfigUrl',
        'UserPoolId',
        'ConsoleClientId',
        'MachineClientId',
        'TokenEndpoint',
      ]),
    );
  });
});

describe('console settings that cannot work are refused', () => {
  it('refuses to synth without a built console, saying how to build it', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'console-empty-'));
    mkdirSync(path.join(empty, 'assets'));
    expect(() => synthStack({ metering: { console: { assetPath: empty } } })).toThrow(
      /holds no index\.html: build the console first \(npm run console:build\)/,
    );
  });

  it('refuses the console with IAM or an outside JWT issuer', () => {
    const assetPath = stubConsole();
    expect(() =>
      synthStack({ metering: { console: { assetPath }, apiAuthorization: { kind: 'iam' } } }),
    ).toThrow(/console needs apiAuthorization \{ kind: 'cognito' \}.*a browser cannot sign IAM/);
    expect(() =>
      synthStack({
        metering: {
          console: { assetPath },
          apiAuthorization: { kind: 'jwt', issuer: 'https://id.example.com/', audience: ['a'] },
        },
      }),
    ).toThrow(/console needs apiAuthorization \{ kind: 'cognito' \}/);
  });

  it('reads -c console=true as a console with Cognito, and refuses it with auth=iam or jwt', () => {
    const props = stackPropsFromContext(
      readAppContext({ console: 'true', consolePath: 'x/dist', stage: 'dev' }),
    );
    expect(props.metering?.apiAuthorization).toEqual({ kind: 'cognito' });
    expect(props.metering?.console).toEqual({ assetPath: 'x/dist' });
    expect(stackPropsFromContext(readAppContext({})).metering?.console).toBeUndefined();
    expect(() => readAppContext({ console: 'true', auth: 'iam' })).toThrow(
      /-c auth: console=true needs auth=cognito.*a browser cannot sign IAM requests/,
    );
    expect(() =>
      readAppContext({ console: 'true', auth: 'jwt', jwtIssuer: 'https://i/', jwtAudience: 'a' }),
    ).toThrow(/needs auth=cognito/);
    expect(() => readAppContext({ console: 'yes' })).toThrow(/-c console/);
    expect(() => readAppContext({ cognitoDomainPrefix: 'team-a' })).toThrow(
      /cognitoDomainPrefix: applies to auth=cognito/,
    );
    expect(() => readAppContext({ auth: 'cognito', cognitoDomainPrefix: 'Team_A' })).toThrow(
      /cognitoDomainPrefix/,
    );
    expect(
      stackPropsFromContext(readAppContext({ auth: 'cognito', cognitoDomainPrefix: 'team-a' }))
        .metering?.apiAuthorization,
    ).toEqual({ kind: 'cognito', domainPrefix: 'team-a' });
  });

  it('gives each stage its own Cognito domain prefix, without words Cognito refuses', () => {
    expect(cognitoDomainPrefix('UsageMetering')).toBe('usagemetering');
    expect(cognitoDomainPrefix('UsageMetering-dev')).toBe('usagemetering-dev');
    expect(cognitoDomainPrefix('UsageMetering-prod')).toBe('usagemetering-prod');
    expect(cognitoDomainPrefix('AwsMetering-Amazon-cognito-x')).toBe('metering-x');
    expect(cognitoDomainPrefix(`A${'b'.repeat(80)}`)).toHaveLength(50);
  });

  it('builds the CSP from its parts', () => {
    expect(contentSecurityPolicy(['https://a.example'])).toContain(
      "connect-src 'self' https://a.example;",
    );
  });
});
