import { graphql } from '../__generated__';

// Triggers (with inbound webhooks and their delivery log) and schedules (issue 10).

export const triggersQuery = graphql(`
  query Triggers {
    triggers {
      id
      eventName
      filter
      hasWebhook
      webhookUrl
      webhookSecretRotatedAt
      createdAt
      workflow { id name }
    }
    workflows(first: 100) { edges { node { id name } } }
  }
`);

export const triggerDeliveriesQuery = graphql(`
  query TriggerDeliveries($id: ID!, $first: Int) {
    trigger(id: $id) {
      id
      deliveries(first: $first) {
        id
        receivedAt
        outcome
        reason
        message
        bodyBytes
        sourceIp
        event { id starts { run { id status } error } }
      }
    }
  }
`);

export const createTriggerMutation = graphql(`
  mutation CreateTrigger($input: CreateTriggerInput!) {
    createTrigger(input: $input) { trigger { id webhookUrl } webhookSecret }
  }
`);

export const rotateTriggerSecretMutation = graphql(`
  mutation RotateTriggerSecret($id: ID!) {
    rotateTriggerSecret(id: $id) { trigger { id webhookUrl } webhookSecret }
  }
`);

export const deleteTriggerMutation = graphql(`
  mutation DeleteTrigger($id: ID!) {
    deleteTrigger(id: $id) { id }
  }
`);

export const schedulesQuery = graphql(`
  query Schedules {
    schedules {
      id
      cron
      timezone
      overlap
      catchUp
      paused
      nextFireAt
      lastFireAt
      nextRuns(n: 3)
      workflow { id name }
    }
  }
`);

export const pauseScheduleMutation = graphql(`
  mutation PauseSchedule($id: ID!) {
    pauseSchedule(id: $id) { id paused nextFireAt }
  }
`);

export const resumeScheduleMutation = graphql(`
  mutation ResumeSchedule($id: ID!) {
    resumeSchedule(id: $id) { id paused nextFireAt }
  }
`);

export const updateScheduleMutation = graphql(`
  mutation UpdateSchedule($id: ID!, $input: UpdateScheduleInput!) {
    updateSchedule(id: $id, input: $input) { id cron timezone nextFireAt }
  }
`);

export const scheduleFormQuery = graphql(`
  query ScheduleForm {
    workflows(first: 100) { edges { node { id name } } }
  }
`);

export const cronPreviewQuery = graphql(`
  query CronPreview($cron: String!, $timezone: String, $n: Int) {
    cronPreview(cron: $cron, timezone: $timezone, n: $n) { cron timezone nextRuns }
  }
`);

export const createScheduleMutation = graphql(`
  mutation CreateSchedule($input: CreateScheduleInput!) {
    createSchedule(input: $input) { id cron timezone nextFireAt }
  }
`);

export const deleteScheduleMutation = graphql(`
  mutation DeleteSchedule($id: ID!) {
    deleteSchedule(id: $id) { id }
  }
`);

export const scheduleFiresQuery = graphql(`
  query ScheduleFires($id: ID!, $first: Int) {
    schedule(id: $id) {
      id
      fires(first: $first) { tickAt outcome reason firedAt run { id status } }
    }
  }
`);
