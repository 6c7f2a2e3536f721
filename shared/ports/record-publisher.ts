/** A metered record ready for the destination: a final or a partial push of one meter. */
export interface PublishableRecord {
  /** Stable id; the deduplication id on FIFO destinations. */
  recordId: string;
  recordType: 'final' | 'partial';
  /** Meter id. */
  id: string;
  meterTypeId: string;
  userId: string;
}

/** Outcome of one publish: every record given is in exactly one of the two lists. */
export interface PublishResult {
  /** recordIds accepted by the destination. */
  sent: string[];
  /** Records not accepted; the caller retries them later. */
  failed: { recordId: string; error: string }[];
}

/** Delivers metered records to billing and analytics; reports failures instead of throwing. */
export interface MeteredRecordPublisher {
  /** Sends the records at least once each; what failed is listed, never thrown. */
  publish(records: readonly PublishableRecord[]): Promise<PublishResult>;
}
