/** Test helpers for DynamoDB Local: a fresh table per test file, and document clients. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { ensureTable, LOCAL_AWS } from '../../shared/local/dynamodb-local.js';

/** Creates a table with a unique name on the shared DynamoDB Local and returns a client for it. */
export async function freshTable() {
  const endpoint = inject('dynamoDbEndpoint');
  const tableName = `test-${randomUUID()}`;
  await ensureTable(endpoint, tableName);
  const client = createDocumentClient({ endpoint, ...LOCAL_AWS });
  return { endpoint, tableName, client };
}
