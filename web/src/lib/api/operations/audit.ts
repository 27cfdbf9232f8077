import { graphql } from '../__generated__';

export const auditLogQuery = graphql(`
  query AuditLog($filter: AuditLogFilter, $first: Int, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          sequence
          occurredAt
          service
          action
          targetType
          targetId
          outcome
          requestId
          ip
          userAgent
          diff
          actor { kind id display }
        }
      }
    }
  }
`);

export const auditLogExportQuery = graphql(`
  query AuditLogExport($filter: AuditLogFilter, $format: AuditExportFormat!, $first: Int, $after: String) {
    auditLogExport(filter: $filter, format: $format, first: $first, after: $after) {
      format
      contentType
      fileName
      content
      eventCount
      nextCursor
    }
  }
`);

export const verifyAuditChainQuery = graphql(`
  query VerifyAuditChain($from: DateTime, $to: DateTime) {
    verifyAuditChain(from: $from, to: $to) {
      ok
      checkedEvents
      firstSequence
      lastSequence
      anchor
      witnessedHeadsChecked
      break { reason sequence message expected actual }
    }
  }
`);
