/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query UsageSeries($from: DateTime!, $to: DateTime!, $splitBy: UsageSplitBy!) {\n    usageSeries(from: $from, to: $to, splitBy: $splitBy) {\n      day\n      key\n      app { id name }\n      workflow { id name }\n      calls\n      failedCalls\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      gpuSeconds\n    }\n  }\n": typeof types.UsageSeriesDocument,
    "\n  query LlmProviders {\n    llmProviders {\n      id\n      name\n      baseUrl\n      apiKeySecret\n      models { alias model pricePer1MInput pricePer1MOutput }\n      pricePer1MInput\n      pricePer1MOutput\n      requestsPerMinute\n      tokensPerMinute\n      timeoutMs\n      workerLocal\n      updatedAt\n      updatedBy\n    }\n  }\n": typeof types.LlmProvidersDocument,
    "\n  query ProviderSecretChoices {\n    secrets { id name }\n  }\n": typeof types.ProviderSecretChoicesDocument,
    "\n  mutation CreateLlmProvider($input: CreateLlmProviderInput!) {\n    createLlmProvider(input: $input) { id name }\n  }\n": typeof types.CreateLlmProviderDocument,
    "\n  mutation UpdateLlmProvider($id: ID!, $input: UpdateLlmProviderInput!) {\n    updateLlmProvider(id: $id, input: $input) { id name }\n  }\n": typeof types.UpdateLlmProviderDocument,
    "\n  mutation DeleteLlmProvider($id: ID!) {\n    deleteLlmProvider(id: $id) { id name }\n  }\n": typeof types.DeleteLlmProviderDocument,
    "\n  mutation TestLlmProvider($id: ID!, $model: String) {\n    testLlmProvider(id: $id, model: $model) { ok model latencyMs message }\n  }\n": typeof types.TestLlmProviderDocument,
    "\n  fragment ApprovalFields on Approval {\n    id\n    stepId\n    status\n    message\n    roles\n    canDecide\n    waitingSince\n    deadline\n    onTimeout\n    decision\n    decidedBy\n    comment\n    decidedAt\n  }\n": typeof types.ApprovalFieldsFragmentDoc,
    "\n  query PendingApprovals($first: Int, $after: String) {\n    pendingApprovals(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          ...ApprovalFields\n          task { id }\n          run { id status workflow { id name } }\n        }\n      }\n    }\n  }\n": typeof types.PendingApprovalsDocument,
    "\n  query PendingApprovalCount {\n    pendingApprovals(first: 1) { totalCount }\n  }\n": typeof types.PendingApprovalCountDocument,
    "\n  query TaskApproval($id: ID!) {\n    task(id: $id) { id approval { ...ApprovalFields } }\n  }\n": typeof types.TaskApprovalDocument,
    "\n  mutation ApproveTask($taskId: ID!, $comment: String) {\n    approveTask(taskId: $taskId, comment: $comment) { id status }\n  }\n": typeof types.ApproveTaskDocument,
    "\n  mutation RejectTask($taskId: ID!, $comment: String) {\n    rejectTask(taskId: $taskId, comment: $comment) { id status }\n  }\n": typeof types.RejectTaskDocument,
    "\n  query Apps($first: Int, $after: String, $filter: AppFilter, $orderBy: AppOrder) {\n    apps(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          slug\n          name\n          description\n          status\n          tags\n          updatedAt\n          health { status since uptime { ratio } }\n        }\n      }\n    }\n  }\n": typeof types.AppsDocument,
    "\n  query App($id: ID!) {\n    app(id: $id) {\n      id\n      slug\n      name\n      description\n      status\n      tags\n      createdAt\n      updatedAt\n      healthCheckUrl\n      owner { id email name }\n      configSchema\n      configSchemaVersion\n      health {\n        status\n        since\n        lastCheckedAt\n        lastLatencyMs\n        lastHttpStatus\n        lastError\n        checksTotal\n        checksFailed\n        monitoringSince\n        day: uptime(windowSeconds: 86400) { ratio upSeconds downSeconds unknownSeconds }\n        week: uptime(windowSeconds: 604800) { ratio }\n        history(first: 20) { edges { node { id status previousStatus changedAt httpStatus error } } }\n      }\n      currentConfig { version }\n      configVersions(first: 50) {\n        edges { node { version config message schemaVersion createdAt isCurrent createdBy { email } } }\n      }\n      configActivations(first: 20) {\n        edges { node { id version previousVersion kind reason activatedAt activatedBy { email } } }\n      }\n      stats(window: LAST_24_HOURS) { runs succeeded failed cancelled active successRate p50DurationMs p95DurationMs }\n      workflows { id name }\n    }\n  }\n": typeof types.AppDocument,
    "\n  mutation CreateApp($input: CreateAppInput!) {\n    createApp(input: $input) { id slug }\n  }\n": typeof types.CreateAppDocument,
    "\n  mutation PublishAppConfig($appId: ID!, $config: JSON!, $message: String) {\n    publishAppConfig(id: $appId, config: $config, message: $message) { version }\n  }\n": typeof types.PublishAppConfigDocument,
    "\n  mutation RollbackAppConfig($appId: ID!, $version: Int!, $reason: String) {\n    rollbackAppConfig(id: $appId, version: $version, reason: $reason) { version isCurrent }\n  }\n": typeof types.RollbackAppConfigDocument,
    "\n  mutation PauseApp($id: ID!) {\n    pauseApp(id: $id) { id status }\n  }\n": typeof types.PauseAppDocument,
    "\n  mutation ResumeApp($id: ID!) {\n    resumeApp(id: $id) { id status }\n  }\n": typeof types.ResumeAppDocument,
    "\n  mutation ArchiveApp($id: ID!) {\n    archiveApp(id: $id) { id status }\n  }\n": typeof types.ArchiveAppDocument,
    "\n  mutation RestoreApp($id: ID!) {\n    restoreApp(id: $id) { id status }\n  }\n": typeof types.RestoreAppDocument,
    "\n  mutation UpdateApp($id: ID!, $input: UpdateAppInput!) {\n    updateApp(id: $id, input: $input) { id slug name description tags healthCheckUrl owner { id email name } }\n  }\n": typeof types.UpdateAppDocument,
    "\n  query AuditLog($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLog(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          sequence\n          occurredAt\n          service\n          action\n          targetType\n          targetId\n          outcome\n          requestId\n          ip\n          userAgent\n          diff\n          actor { kind id display }\n        }\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query AuditLogExport($filter: AuditLogFilter, $format: AuditExportFormat!, $first: Int, $after: String) {\n    auditLogExport(filter: $filter, format: $format, first: $first, after: $after) {\n      format\n      contentType\n      fileName\n      content\n      eventCount\n      nextCursor\n    }\n  }\n": typeof types.AuditLogExportDocument,
    "\n  query VerifyAuditChain($from: DateTime, $to: DateTime) {\n    verifyAuditChain(from: $from, to: $to) {\n      ok\n      checkedEvents\n      firstSequence\n      lastSequence\n      anchor\n      witnessedHeadsChecked\n      break { reason sequence message expected actual }\n    }\n  }\n": typeof types.VerifyAuditChainDocument,
    "\n  query Workers($filter: WorkerFilter) {\n    workers(filter: $filter) {\n      id\n      endpoint\n      pool\n      capabilities\n      slotsTotal\n      slotsFree\n      running\n      labels { key value }\n      version\n      llmEndpoints\n      status\n      registeredAt\n      lastHeartbeatAt\n      leaseExpiresAt\n      resources {\n        cpuCount\n        cpuLoad\n        memoryTotalBytes\n        memoryUsedBytes\n        gpus { index model memoryTotalBytes memoryUsedBytes utilizationPercent }\n      }\n    }\n  }\n": typeof types.WorkersDocument,
    "\n  query Triggers {\n    triggers {\n      id\n      eventName\n      filter\n      hasWebhook\n      webhookUrl\n      webhookSecretRotatedAt\n      createdAt\n      workflow { id name }\n    }\n    workflows(first: 100) { edges { node { id name } } }\n  }\n": typeof types.TriggersDocument,
    "\n  query TriggerDeliveries($id: ID!, $first: Int) {\n    trigger(id: $id) {\n      id\n      deliveries(first: $first) {\n        id\n        receivedAt\n        outcome\n        reason\n        message\n        bodyBytes\n        sourceIp\n        event { id starts { run { id status } error } }\n      }\n    }\n  }\n": typeof types.TriggerDeliveriesDocument,
    "\n  mutation CreateTrigger($input: CreateTriggerInput!) {\n    createTrigger(input: $input) { trigger { id webhookUrl } webhookSecret }\n  }\n": typeof types.CreateTriggerDocument,
    "\n  mutation RotateTriggerSecret($id: ID!) {\n    rotateTriggerSecret(id: $id) { trigger { id webhookUrl } webhookSecret }\n  }\n": typeof types.RotateTriggerSecretDocument,
    "\n  mutation DeleteTrigger($id: ID!) {\n    deleteTrigger(id: $id) { id }\n  }\n": typeof types.DeleteTriggerDocument,
    "\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      overlap\n      catchUp\n      paused\n      nextFireAt\n      lastFireAt\n      nextRuns(n: 3)\n      workflow { id name }\n    }\n  }\n": typeof types.SchedulesDocument,
    "\n  mutation PauseSchedule($id: ID!) {\n    pauseSchedule(id: $id) { id paused nextFireAt }\n  }\n": typeof types.PauseScheduleDocument,
    "\n  mutation ResumeSchedule($id: ID!) {\n    resumeSchedule(id: $id) { id paused nextFireAt }\n  }\n": typeof types.ResumeScheduleDocument,
    "\n  mutation UpdateSchedule($id: ID!, $input: UpdateScheduleInput!) {\n    updateSchedule(id: $id, input: $input) { id cron timezone nextFireAt }\n  }\n": typeof types.UpdateScheduleDocument,
    "\n  query ScheduleForm {\n    workflows(first: 100) { edges { node { id name } } }\n  }\n": typeof types.ScheduleFormDocument,
    "\n  query CronPreview($cron: String!, $timezone: String, $n: Int) {\n    cronPreview(cron: $cron, timezone: $timezone, n: $n) { cron timezone nextRuns }\n  }\n": typeof types.CronPreviewDocument,
    "\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) { id cron timezone nextFireAt }\n  }\n": typeof types.CreateScheduleDocument,
    "\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id) { id }\n  }\n": typeof types.DeleteScheduleDocument,
    "\n  query ScheduleFires($id: ID!, $first: Int) {\n    schedule(id: $id) {\n      id\n      fires(first: $first) { tickAt outcome reason firedAt run { id status } }\n    }\n  }\n": typeof types.ScheduleFiresDocument,
    "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    refreshTokenExpiresAt\n    role\n    user { id email name }\n    organization { id name }\n  }\n": typeof types.AuthPayloadFieldsFragmentDoc,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { ...AuthPayloadFields }\n  }\n": typeof types.LoginDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) { ...AuthPayloadFields }\n  }\n": typeof types.SignUpDocument,
    "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) { ...AuthPayloadFields }\n  }\n": typeof types.RefreshTokenDocument,
    "\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n": typeof types.LogoutDocument,
    "\n  mutation SwitchOrganization($organizationId: ID!, $refreshToken: String) {\n    switchOrganization(organizationId: $organizationId, refreshToken: $refreshToken) { ...AuthPayloadFields }\n  }\n": typeof types.SwitchOrganizationDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) { ...AuthPayloadFields }\n  }\n": typeof types.AcceptInvitationDocument,
    "\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { id name }\n  }\n": typeof types.CreateOrganizationDocument,
    "\n  query Me {\n    me {\n      role\n      twoFactorEnrollmentRequired\n      user { id email name emailVerified pendingEmail twoFactorEnabled }\n      organization { id name requireTwoFactor }\n      memberships { id role organization { id name } }\n    }\n  }\n": typeof types.MeDocument,
    "\n  query Members($first: Int, $after: String, $search: String, $withApiKeys: Boolean = false) {\n    members(first: $first, after: $after, search: $search) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id role createdAt activeApiKeysCreated @include(if: $withApiKeys) user { id email name twoFactorEnabled @include(if: $withApiKeys) } } }\n    }\n  }\n": typeof types.MembersDocument,
    "\n  mutation ChangeMemberRole($id: ID!, $role: Role!) {\n    changeMemberRole(id: $id, role: $role) { id role }\n  }\n": typeof types.ChangeMemberRoleDocument,
    "\n  mutation RemoveMember($id: ID!) {\n    removeMember(id: $id) { id }\n  }\n": typeof types.RemoveMemberDocument,
    "\n  query Invitations($first: Int, $after: String, $includeClosed: Boolean) {\n    invitations(first: $first, after: $after, includeClosed: $includeClosed) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id email role status createdAt expiresAt acceptedAt revokedAt invitedBy { email } } }\n    }\n  }\n": typeof types.InvitationsDocument,
    "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) { token invitation { id email role expiresAt } }\n  }\n": typeof types.InviteMemberDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) { id status }\n  }\n": typeof types.RevokeInvitationDocument,
    "\n  query ApiKeys($first: Int, $after: String, $includeRevoked: Boolean) {\n    apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name scopes status createdAt expiresAt lastUsedAt revokedAt createdBy { email } } }\n    }\n    apiKeyScopes { name description }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { key apiKey { id name scopes } }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { id status revokedAt }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id email name }\n  }\n": typeof types.UpdateProfileDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) { ...AuthPayloadFields }\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": typeof types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n": typeof types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token)\n  }\n": typeof types.VerifyEmailDocument,
    "\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n": typeof types.ResendVerificationEmailDocument,
    "\n  mutation ChangeEmail($input: ChangeEmailInput!) {\n    changeEmail(input: $input)\n  }\n": typeof types.ChangeEmailDocument,
    "\n  mutation CompleteTwoFactorSignIn($input: CompleteTwoFactorSignInInput!) {\n    completeTwoFactorSignIn(input: $input) { ...AuthPayloadFields }\n  }\n": typeof types.CompleteTwoFactorSignInDocument,
    "\n  mutation StartTwoFactorEnrollment {\n    startTwoFactorEnrollment { secret otpauthUrl }\n  }\n": typeof types.StartTwoFactorEnrollmentDocument,
    "\n  mutation ConfirmTwoFactorEnrollment($code: String!) {\n    confirmTwoFactorEnrollment(code: $code) { recoveryCodes }\n  }\n": typeof types.ConfirmTwoFactorEnrollmentDocument,
    "\n  mutation DisableTwoFactor($currentPassword: String!) {\n    disableTwoFactor(currentPassword: $currentPassword)\n  }\n": typeof types.DisableTwoFactorDocument,
    "\n  mutation SetTwoFactorRequired($required: Boolean!) {\n    setTwoFactorRequired(required: $required) { id requireTwoFactor }\n  }\n": typeof types.SetTwoFactorRequiredDocument,
    "\n  mutation ResetMemberTwoFactor($membershipId: ID!) {\n    resetMemberTwoFactor(membershipId: $membershipId) { id user { id twoFactorEnabled } }\n  }\n": typeof types.ResetMemberTwoFactorDocument,
    "\n  query RateLimits {\n    rateLimits { id name limit per used createdBy updatedAt }\n  }\n": typeof types.RateLimitsDocument,
    "\n  mutation CreateRateLimit($input: CreateRateLimitInput!) {\n    createRateLimit(input: $input) { id name limit per }\n  }\n": typeof types.CreateRateLimitDocument,
    "\n  mutation UpdateRateLimit($id: ID!, $input: UpdateRateLimitInput!) {\n    updateRateLimit(id: $id, input: $input) { id name limit per }\n  }\n": typeof types.UpdateRateLimitDocument,
    "\n  mutation DeleteRateLimit($id: ID!) {\n    deleteRateLimit(id: $id) { id }\n  }\n": typeof types.DeleteRateLimitDocument,
    "\n  query OrganizationLimits {\n    organizationLimits {\n      runningTasksPerPool\n      runsStartedPerMinute\n      queuedTasks\n      weight\n      pools\n      usage { runsStartedLastMinute queuedTasks runningTasks { pool running } }\n    }\n  }\n": typeof types.OrganizationLimitsDocument,
    "\n  query RunMetrics($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workflowId: ID, $appId: ID, $workerId: ID) {\n    runMetrics(from: $from, to: $to, bucket: $bucket, workflowId: $workflowId, appId: $appId, workerId: $workerId) {\n      from\n      to\n      bucket\n      buckets {\n        start\n        counts { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }\n      }\n      totals { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }\n      failureCodes { code runs firstAt lastAt lastMessage lastRunId }\n    }\n  }\n": typeof types.RunMetricsDocument,
    "\n  query PoolSlotUsage($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $pool: String) {\n    poolSlotUsage(from: $from, to: $to, bucket: $bucket, pool: $pool) {\n      from\n      to\n      bucket\n      pools {\n        pool\n        points { start busySlots peakBusySlots totalSlots utilization }\n      }\n    }\n  }\n": typeof types.PoolSlotUsageDocument,
    "\n  fragment NotificationFields on Notification {\n    id type title body link createdAt readAt\n  }\n": typeof types.NotificationFieldsFragmentDoc,
    "\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      nodes { ...NotificationFields }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.NotificationsDocument,
    "\n  query UnreadNotificationCount {\n    unreadNotificationCount\n  }\n": typeof types.UnreadNotificationCountDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!]!) {\n    markNotificationsRead(ids: $ids) { id readAt }\n  }\n": typeof types.MarkNotificationsReadDocument,
    "\n  mutation MarkAllNotificationsRead {\n    markAllNotificationsRead\n  }\n": typeof types.MarkAllNotificationsReadDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded { ...NotificationFields }\n  }\n": typeof types.NotificationAddedDocument,
    "\n  query NotificationPreferences {\n    notificationPreferences {\n      emailMode\n      events { type label inApp email required custom }\n    }\n  }\n": typeof types.NotificationPreferencesDocument,
    "\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      emailMode\n      events { type label inApp email required custom }\n    }\n  }\n": typeof types.UpdateNotificationPreferencesDocument,
    "\n  fragment TimelineAttemptFields on TaskAttempt {\n    id\n    number\n    taskId\n    stepId\n    itemIndex\n    status\n    workerId\n    queuedAt\n    startedAt\n    finishedAt\n    error { code message }\n  }\n": typeof types.TimelineAttemptFieldsFragmentDoc,
    "\n  query RunAttempts($id: ID!, $first: Int, $after: String) {\n    run(id: $id) {\n      id\n      lastSeq\n      attempts(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { ...TimelineAttemptFields } }\n      }\n    }\n  }\n": typeof types.RunAttemptsDocument,
    "\n  query TaskAttempts($id: ID!) {\n    task(id: $id) { id attemptHistory { ...TimelineAttemptFields } }\n  }\n": typeof types.TaskAttemptsDocument,
    "\n  fragment EventLogFields on RunEvent {\n    seq\n    kind\n    at\n    taskId\n    stepId\n    runStatus\n    taskStatus\n    attemptId\n    attempt\n    message\n    level\n    error { code message }\n    outputDelta { text }\n    waitReason { kind message }\n  }\n": typeof types.EventLogFieldsFragmentDoc,
    "\n  query RunEventLog($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) {\n      id\n      lastSeq\n      events(afterSeq: $afterSeq, first: $first) { ...EventLogFields }\n    }\n  }\n": typeof types.RunEventLogDocument,
    "\n  subscription RunEventLogLive($runId: ID!, $afterSeq: Int!) {\n    runEventBatches(runId: $runId, afterSeq: $afterSeq) { lastSeq events { ...EventLogFields } }\n  }\n": typeof types.RunEventLogLiveDocument,
    "\n  fragment RunSummaryFields on Run {\n    id\n    status\n    workflowVersion\n    workflow { id name }\n    startedByName\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    error { code message stepId }\n  }\n": typeof types.RunSummaryFieldsFragmentDoc,
    "\n  fragment TaskRowFields on Task {\n    id\n    stepId\n    capability\n    status\n    dependsOn\n    error { code message retryable stepId }\n    attempts\n    maxAttempts\n    progress\n    progressMessage\n    pool\n    workerId\n    gpus { index model memoryMiB }\n    waitReason { kind message since }\n    queuedAt\n    startedAt\n    finishedAt\n    durationMs\n    # Only what counting attempts across restarts needs (\"1/3 · 2 in all\"); the panel fetches the rest.\n    attemptHistory { number queuedAt }\n    # A forEach step's items by status (its items themselves are paged: TaskItems).\n    itemCounts { ...ItemCountFields }\n  }\n": typeof types.TaskRowFieldsFragmentDoc,
    "\n  fragment ItemCountFields on TaskItemCounts {\n    total\n    pending\n    queued\n    running\n    succeeded\n    failed\n    cancelled\n  }\n": typeof types.ItemCountFieldsFragmentDoc,
    "\n  fragment TaskFields on Task {\n    ...TaskRowFields\n    itemIndex\n    input\n    output\n    # What its attempts spent: model calls (llm, browser.agent) and GPU time.\n    usage { calls failedCalls promptTokens completionTokens costUsd gpuSeconds }\n    attemptHistory {\n      id\n      number\n      status\n      workerId\n      queuedAt\n      startedAt\n      finishedAt\n      durationMs\n      error { code message }\n    }\n  }\n": typeof types.TaskFieldsFragmentDoc,
    "\n  query Runs($first: Int, $after: String, $filter: RunFilter) {\n    runs(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...RunSummaryFields idempotencyKey } }\n    }\n  }\n": typeof types.RunsDocument,
    "\n  query RunAgainSource($id: ID!) {\n    run(id: $id) { id input workflowVersion workflow { id name versions { number } } }\n  }\n": typeof types.RunAgainSourceDocument,
    "\n  mutation CancelRuns($ids: [ID!]!, $reason: String) {\n    cancelRuns(ids: $ids, reason: $reason) { id run { id status cancelReason } error { code reason message } }\n  }\n": typeof types.CancelRunsDocument,
    "\n  mutation RetryRuns($ids: [ID!]!) {\n    retryRuns(ids: $ids) { id run { id status } error { code reason message } }\n  }\n": typeof types.RetryRunsDocument,
    "\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunSummaryFields\n      input\n      output\n      idempotencyKey\n      cancelReason\n      lastSeq\n      app { id name }\n      tasks { ...TaskRowFields }\n    }\n  }\n": typeof types.RunDocument,
    "\n  query TaskDetail($id: ID!) {\n    task(id: $id) { ...TaskFields }\n  }\n": typeof types.TaskDetailDocument,
    "\n  query RunWaits($id: ID!) {\n    run(id: $id) {\n      id\n      tasks { id status waitReason { kind message since } }\n    }\n  }\n": typeof types.RunWaitsDocument,
    "\n  query RunItemCounts($id: ID!) {\n    run(id: $id) {\n      id\n      lastSeq\n      tasks { id itemCounts { ...ItemCountFields } }\n    }\n  }\n": typeof types.RunItemCountsDocument,
    "\n  query TaskItems($id: ID!, $first: Int, $after: String, $status: TaskStatus) {\n    task(id: $id) {\n      id\n      items(first: $first, after: $after, status: $status) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { ...TaskRowFields itemIndex } }\n      }\n    }\n  }\n": typeof types.TaskItemsDocument,
    "\n  query TaskLogs($id: ID!, $afterSeq: Int, $first: Int) {\n    task(id: $id) {\n      id\n      logs(afterSeq: $afterSeq, first: $first) { seq at level message attempt }\n    }\n  }\n": typeof types.TaskLogsDocument,
    "\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { id status cancelReason }\n  }\n": typeof types.CancelRunDocument,
    "\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) { id status }\n  }\n": typeof types.RetryRunDocument,
    "\n  query DeadLetters($first: Int, $after: String, $filter: DeadLetterFilter) {\n    deadLetters(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          stepId\n          attempts\n          createdAt\n          replayedAt\n          replayedBy\n          discardedAt\n          discardedBy\n          error { code message retryable }\n          run { id status workflow { id name } }\n        }\n      }\n    }\n  }\n": typeof types.DeadLettersDocument,
    "\n  query DeadLetterGroups {\n    deadLetterGroups { errorCode stepId count lastAt message workflow { id name } }\n  }\n": typeof types.DeadLetterGroupsDocument,
    "\n  mutation ReplayDeadLetters($ids: [ID!]!) {\n    replayDeadLetters(ids: $ids) { id deadLetter { id replayedAt run { id status } } error { code reason message } }\n  }\n": typeof types.ReplayDeadLettersDocument,
    "\n  mutation DiscardDeadLetters($ids: [ID!]!) {\n    discardDeadLetters(ids: $ids) { id deadLetter { id discardedAt } error { code reason message } }\n  }\n": typeof types.DiscardDeadLettersDocument,
    "\n  mutation ReplayDeadLetter($id: ID!) {\n    replayDeadLetter(id: $id) { id status }\n  }\n": typeof types.ReplayDeadLetterDocument,
    "\n  subscription RunEventBatches($runId: ID!, $afterSeq: Int!, $withOutput: Boolean!, $progressOf: [ID!]) {\n    runEventBatches(runId: $runId, afterSeq: $afterSeq, progressOf: $progressOf) {\n      lastSeq\n      events {\n        seq\n        kind\n        at\n        runStatus\n        taskId\n        stepId\n        taskStatus\n        attempt\n        progress\n        message\n        level\n        error { code message retryable stepId }\n        attemptId @include(if: $withOutput)\n        outputDelta @include(if: $withOutput) { seq offset text restart }\n      }\n    }\n  }\n": typeof types.RunEventBatchesDocument,
    "\n  query TaskStreamedOutput($id: ID!) {\n    task(id: $id) {\n      id\n      streamedOutput { attemptId text throughSeq deltaSeq }\n    }\n  }\n": typeof types.TaskStreamedOutputDocument,
    "\n  subscription RunStatusChanged($workflowId: ID) {\n    runStatusChanged(workflowId: $workflowId) {\n      seq\n      runId\n      runStatus\n      run { ...RunSummaryFields }\n    }\n  }\n": typeof types.RunStatusChangedDocument,
    "\n  query TaskArtifacts($id: ID!) {\n    task(id: $id) {\n      id\n      attemptHistory { id number artifacts { id name contentType sizeBytes sha256 createdAt downloadUrl } }\n    }\n  }\n": typeof types.TaskArtifactsDocument,
    "\n  query Secrets {\n    secrets { id name version createdAt createdBy updatedAt updatedBy lastUsedAt }\n  }\n": typeof types.SecretsDocument,
    "\n  mutation CreateSecret($name: String!, $value: String!) {\n    createSecret(name: $name, value: $value) { id name version }\n  }\n": typeof types.CreateSecretDocument,
    "\n  mutation RotateSecret($name: String!, $value: String!) {\n    rotateSecret(name: $name, value: $value) { id name version updatedAt }\n  }\n": typeof types.RotateSecretDocument,
    "\n  mutation DeleteSecret($name: String!) {\n    deleteSecret(name: $name) { id name }\n  }\n": typeof types.DeleteSecretDocument,
    "\n  query WebhookEndpoints {\n    webhookEndpoints { id url description events enabled disabledAt disabledReason createdAt secretRotatedAt previousSecretExpiresAt }\n    notificationEventTypes { type label }\n  }\n": typeof types.WebhookEndpointsDocument,
    "\n  query WebhookDeliveries($id: ID!, $first: Int, $after: String) {\n    webhookEndpoint(id: $id) {\n      id\n      url\n      deliveries(first: $first, after: $after) {\n        nodes {\n          id eventId eventType status attempts createdAt deliveredAt nextAttemptAt lastStatusCode lastLatencyMs lastResponseExcerpt lastError redeliveryOf\n          attemptLog { attemptedAt statusCode latencyMs error succeeded }\n        }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": typeof types.WebhookDeliveriesDocument,
    "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { id url events } }\n  }\n": typeof types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { id url description events enabled disabledAt }\n  }\n": typeof types.UpdateWebhookEndpointDocument,
    "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n": typeof types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { id secretRotatedAt previousSecretExpiresAt } }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation RedeliverWebhook($deliveryId: ID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { id status }\n  }\n": typeof types.RedeliverWebhookDocument,
    "\n  fragment SsoConnectionFields on SsoConnection {\n    id\n    slug\n    issuer\n    clientId\n    clientSecretSet\n    domains\n    defaultRole\n    requireSso\n    redirectUri\n    updatedAt\n  }\n": typeof types.SsoConnectionFieldsFragmentDoc,
    "\n  query SsoConnection {\n    ssoConnection { ...SsoConnectionFields }\n  }\n": typeof types.SsoConnectionDocument,
    "\n  query TestSsoConnection($issuer: String!) {\n    testSsoConnection(issuer: $issuer) { issuer authorizationEndpoint tokenEndpoint jwksUri userinfoEndpoint supportsPkce }\n  }\n": typeof types.TestSsoConnectionDocument,
    "\n  mutation ConfigureSso($input: ConfigureSsoInput!) {\n    configureSso(input: $input) { ...SsoConnectionFields }\n  }\n": typeof types.ConfigureSsoDocument,
    "\n  mutation DeleteSsoConnection {\n    deleteSsoConnection\n  }\n": typeof types.DeleteSsoConnectionDocument,
    "\n  mutation StartSsoSignIn($input: StartSsoSignInInput!) {\n    startSsoSignIn(input: $input) { authorizationUrl binding expiresAt }\n  }\n": typeof types.StartSsoSignInDocument,
    "\n  mutation CompleteSsoSignIn($input: CompleteSsoSignInInput!) {\n    completeSsoSignIn(input: $input) { ...AuthPayloadFields }\n  }\n": typeof types.CompleteSsoSignInDocument,
    "\n  fragment StepFields on Step {\n    id\n    capability\n    input\n    dependsOn\n    retry { maxAttempts initialDelayMs backoffFactor maxDelayMs }\n    timeoutMs\n    pool\n    labels { key value }\n  }\n": typeof types.StepFieldsFragmentDoc,
    "\n  query Workflows($first: Int, $after: String, $filter: WorkflowFilter) {\n    workflows(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          name\n          description\n          updatedAt\n          app { id name }\n          latestVersion { number steps { id } }\n        }\n      }\n    }\n  }\n": typeof types.WorkflowsDocument,
    "\n  query Workflow($id: ID!) {\n    workflow(id: $id) {\n      id\n      name\n      description\n      createdBy\n      createdAt\n      updatedAt\n      app { id name }\n      latestVersion { number }\n      versions { number createdBy createdAt steps { ...StepFields } }\n    }\n  }\n": typeof types.WorkflowDocument,
    "\n  query Capabilities {\n    capabilities\n  }\n": typeof types.CapabilitiesDocument,
    "\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) { id name latestVersion { number } }\n  }\n": typeof types.CreateWorkflowDocument,
    "\n  mutation PublishWorkflowVersion($workflowId: ID!, $steps: [StepInput!]!) {\n    publishWorkflowVersion(workflowId: $workflowId, steps: $steps) { workflowId number }\n  }\n": typeof types.PublishWorkflowVersionDocument,
    "\n  mutation StartRun($input: StartRunInput!) {\n    startRun(input: $input) { deduplicated run { id status } }\n  }\n": typeof types.StartRunDocument,
};
const documents: Documents = {
    "\n  query UsageSeries($from: DateTime!, $to: DateTime!, $splitBy: UsageSplitBy!) {\n    usageSeries(from: $from, to: $to, splitBy: $splitBy) {\n      day\n      key\n      app { id name }\n      workflow { id name }\n      calls\n      failedCalls\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      gpuSeconds\n    }\n  }\n": types.UsageSeriesDocument,
    "\n  query LlmProviders {\n    llmProviders {\n      id\n      name\n      baseUrl\n      apiKeySecret\n      models { alias model pricePer1MInput pricePer1MOutput }\n      pricePer1MInput\n      pricePer1MOutput\n      requestsPerMinute\n      tokensPerMinute\n      timeoutMs\n      workerLocal\n      updatedAt\n      updatedBy\n    }\n  }\n": types.LlmProvidersDocument,
    "\n  query ProviderSecretChoices {\n    secrets { id name }\n  }\n": types.ProviderSecretChoicesDocument,
    "\n  mutation CreateLlmProvider($input: CreateLlmProviderInput!) {\n    createLlmProvider(input: $input) { id name }\n  }\n": types.CreateLlmProviderDocument,
    "\n  mutation UpdateLlmProvider($id: ID!, $input: UpdateLlmProviderInput!) {\n    updateLlmProvider(id: $id, input: $input) { id name }\n  }\n": types.UpdateLlmProviderDocument,
    "\n  mutation DeleteLlmProvider($id: ID!) {\n    deleteLlmProvider(id: $id) { id name }\n  }\n": types.DeleteLlmProviderDocument,
    "\n  mutation TestLlmProvider($id: ID!, $model: String) {\n    testLlmProvider(id: $id, model: $model) { ok model latencyMs message }\n  }\n": types.TestLlmProviderDocument,
    "\n  fragment ApprovalFields on Approval {\n    id\n    stepId\n    status\n    message\n    roles\n    canDecide\n    waitingSince\n    deadline\n    onTimeout\n    decision\n    decidedBy\n    comment\n    decidedAt\n  }\n": types.ApprovalFieldsFragmentDoc,
    "\n  query PendingApprovals($first: Int, $after: String) {\n    pendingApprovals(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          ...ApprovalFields\n          task { id }\n          run { id status workflow { id name } }\n        }\n      }\n    }\n  }\n": types.PendingApprovalsDocument,
    "\n  query PendingApprovalCount {\n    pendingApprovals(first: 1) { totalCount }\n  }\n": types.PendingApprovalCountDocument,
    "\n  query TaskApproval($id: ID!) {\n    task(id: $id) { id approval { ...ApprovalFields } }\n  }\n": types.TaskApprovalDocument,
    "\n  mutation ApproveTask($taskId: ID!, $comment: String) {\n    approveTask(taskId: $taskId, comment: $comment) { id status }\n  }\n": types.ApproveTaskDocument,
    "\n  mutation RejectTask($taskId: ID!, $comment: String) {\n    rejectTask(taskId: $taskId, comment: $comment) { id status }\n  }\n": types.RejectTaskDocument,
    "\n  query Apps($first: Int, $after: String, $filter: AppFilter, $orderBy: AppOrder) {\n    apps(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          slug\n          name\n          description\n          status\n          tags\n          updatedAt\n          health { status since uptime { ratio } }\n        }\n      }\n    }\n  }\n": types.AppsDocument,
    "\n  query App($id: ID!) {\n    app(id: $id) {\n      id\n      slug\n      name\n      description\n      status\n      tags\n      createdAt\n      updatedAt\n      healthCheckUrl\n      owner { id email name }\n      configSchema\n      configSchemaVersion\n      health {\n        status\n        since\n        lastCheckedAt\n        lastLatencyMs\n        lastHttpStatus\n        lastError\n        checksTotal\n        checksFailed\n        monitoringSince\n        day: uptime(windowSeconds: 86400) { ratio upSeconds downSeconds unknownSeconds }\n        week: uptime(windowSeconds: 604800) { ratio }\n        history(first: 20) { edges { node { id status previousStatus changedAt httpStatus error } } }\n      }\n      currentConfig { version }\n      configVersions(first: 50) {\n        edges { node { version config message schemaVersion createdAt isCurrent createdBy { email } } }\n      }\n      configActivations(first: 20) {\n        edges { node { id version previousVersion kind reason activatedAt activatedBy { email } } }\n      }\n      stats(window: LAST_24_HOURS) { runs succeeded failed cancelled active successRate p50DurationMs p95DurationMs }\n      workflows { id name }\n    }\n  }\n": types.AppDocument,
    "\n  mutation CreateApp($input: CreateAppInput!) {\n    createApp(input: $input) { id slug }\n  }\n": types.CreateAppDocument,
    "\n  mutation PublishAppConfig($appId: ID!, $config: JSON!, $message: String) {\n    publishAppConfig(id: $appId, config: $config, message: $message) { version }\n  }\n": types.PublishAppConfigDocument,
    "\n  mutation RollbackAppConfig($appId: ID!, $version: Int!, $reason: String) {\n    rollbackAppConfig(id: $appId, version: $version, reason: $reason) { version isCurrent }\n  }\n": types.RollbackAppConfigDocument,
    "\n  mutation PauseApp($id: ID!) {\n    pauseApp(id: $id) { id status }\n  }\n": types.PauseAppDocument,
    "\n  mutation ResumeApp($id: ID!) {\n    resumeApp(id: $id) { id status }\n  }\n": types.ResumeAppDocument,
    "\n  mutation ArchiveApp($id: ID!) {\n    archiveApp(id: $id) { id status }\n  }\n": types.ArchiveAppDocument,
    "\n  mutation RestoreApp($id: ID!) {\n    restoreApp(id: $id) { id status }\n  }\n": types.RestoreAppDocument,
    "\n  mutation UpdateApp($id: ID!, $input: UpdateAppInput!) {\n    updateApp(id: $id, input: $input) { id slug name description tags healthCheckUrl owner { id email name } }\n  }\n": types.UpdateAppDocument,
    "\n  query AuditLog($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLog(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          sequence\n          occurredAt\n          service\n          action\n          targetType\n          targetId\n          outcome\n          requestId\n          ip\n          userAgent\n          diff\n          actor { kind id display }\n        }\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query AuditLogExport($filter: AuditLogFilter, $format: AuditExportFormat!, $first: Int, $after: String) {\n    auditLogExport(filter: $filter, format: $format, first: $first, after: $after) {\n      format\n      contentType\n      fileName\n      content\n      eventCount\n      nextCursor\n    }\n  }\n": types.AuditLogExportDocument,
    "\n  query VerifyAuditChain($from: DateTime, $to: DateTime) {\n    verifyAuditChain(from: $from, to: $to) {\n      ok\n      checkedEvents\n      firstSequence\n      lastSequence\n      anchor\n      witnessedHeadsChecked\n      break { reason sequence message expected actual }\n    }\n  }\n": types.VerifyAuditChainDocument,
    "\n  query Workers($filter: WorkerFilter) {\n    workers(filter: $filter) {\n      id\n      endpoint\n      pool\n      capabilities\n      slotsTotal\n      slotsFree\n      running\n      labels { key value }\n      version\n      llmEndpoints\n      status\n      registeredAt\n      lastHeartbeatAt\n      leaseExpiresAt\n      resources {\n        cpuCount\n        cpuLoad\n        memoryTotalBytes\n        memoryUsedBytes\n        gpus { index model memoryTotalBytes memoryUsedBytes utilizationPercent }\n      }\n    }\n  }\n": types.WorkersDocument,
    "\n  query Triggers {\n    triggers {\n      id\n      eventName\n      filter\n      hasWebhook\n      webhookUrl\n      webhookSecretRotatedAt\n      createdAt\n      workflow { id name }\n    }\n    workflows(first: 100) { edges { node { id name } } }\n  }\n": types.TriggersDocument,
    "\n  query TriggerDeliveries($id: ID!, $first: Int) {\n    trigger(id: $id) {\n      id\n      deliveries(first: $first) {\n        id\n        receivedAt\n        outcome\n        reason\n        message\n        bodyBytes\n        sourceIp\n        event { id starts { run { id status } error } }\n      }\n    }\n  }\n": types.TriggerDeliveriesDocument,
    "\n  mutation CreateTrigger($input: CreateTriggerInput!) {\n    createTrigger(input: $input) { trigger { id webhookUrl } webhookSecret }\n  }\n": types.CreateTriggerDocument,
    "\n  mutation RotateTriggerSecret($id: ID!) {\n    rotateTriggerSecret(id: $id) { trigger { id webhookUrl } webhookSecret }\n  }\n": types.RotateTriggerSecretDocument,
    "\n  mutation DeleteTrigger($id: ID!) {\n    deleteTrigger(id: $id) { id }\n  }\n": types.DeleteTriggerDocument,
    "\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      overlap\n      catchUp\n      paused\n      nextFireAt\n      lastFireAt\n      nextRuns(n: 3)\n      workflow { id name }\n    }\n  }\n": types.SchedulesDocument,
    "\n  mutation PauseSchedule($id: ID!) {\n    pauseSchedule(id: $id) { id paused nextFireAt }\n  }\n": types.PauseScheduleDocument,
    "\n  mutation ResumeSchedule($id: ID!) {\n    resumeSchedule(id: $id) { id paused nextFireAt }\n  }\n": types.ResumeScheduleDocument,
    "\n  mutation UpdateSchedule($id: ID!, $input: UpdateScheduleInput!) {\n    updateSchedule(id: $id, input: $input) { id cron timezone nextFireAt }\n  }\n": types.UpdateScheduleDocument,
    "\n  query ScheduleForm {\n    workflows(first: 100) { edges { node { id name } } }\n  }\n": types.ScheduleFormDocument,
    "\n  query CronPreview($cron: String!, $timezone: String, $n: Int) {\n    cronPreview(cron: $cron, timezone: $timezone, n: $n) { cron timezone nextRuns }\n  }\n": types.CronPreviewDocument,
    "\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) { id cron timezone nextFireAt }\n  }\n": types.CreateScheduleDocument,
    "\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id) { id }\n  }\n": types.DeleteScheduleDocument,
    "\n  query ScheduleFires($id: ID!, $first: Int) {\n    schedule(id: $id) {\n      id\n      fires(first: $first) { tickAt outcome reason firedAt run { id status } }\n    }\n  }\n": types.ScheduleFiresDocument,
    "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    refreshTokenExpiresAt\n    role\n    user { id email name }\n    organization { id name }\n  }\n": types.AuthPayloadFieldsFragmentDoc,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { ...AuthPayloadFields }\n  }\n": types.LoginDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) { ...AuthPayloadFields }\n  }\n": types.SignUpDocument,
    "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) { ...AuthPayloadFields }\n  }\n": types.RefreshTokenDocument,
    "\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n": types.LogoutDocument,
    "\n  mutation SwitchOrganization($organizationId: ID!, $refreshToken: String) {\n    switchOrganization(organizationId: $organizationId, refreshToken: $refreshToken) { ...AuthPayloadFields }\n  }\n": types.SwitchOrganizationDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) { ...AuthPayloadFields }\n  }\n": types.AcceptInvitationDocument,
    "\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { id name }\n  }\n": types.CreateOrganizationDocument,
    "\n  query Me {\n    me {\n      role\n      twoFactorEnrollmentRequired\n      user { id email name emailVerified pendingEmail twoFactorEnabled }\n      organization { id name requireTwoFactor }\n      memberships { id role organization { id name } }\n    }\n  }\n": types.MeDocument,
    "\n  query Members($first: Int, $after: String, $search: String, $withApiKeys: Boolean = false) {\n    members(first: $first, after: $after, search: $search) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id role createdAt activeApiKeysCreated @include(if: $withApiKeys) user { id email name twoFactorEnabled @include(if: $withApiKeys) } } }\n    }\n  }\n": types.MembersDocument,
    "\n  mutation ChangeMemberRole($id: ID!, $role: Role!) {\n    changeMemberRole(id: $id, role: $role) { id role }\n  }\n": types.ChangeMemberRoleDocument,
    "\n  mutation RemoveMember($id: ID!) {\n    removeMember(id: $id) { id }\n  }\n": types.RemoveMemberDocument,
    "\n  query Invitations($first: Int, $after: String, $includeClosed: Boolean) {\n    invitations(first: $first, after: $after, includeClosed: $includeClosed) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id email role status createdAt expiresAt acceptedAt revokedAt invitedBy { email } } }\n    }\n  }\n": types.InvitationsDocument,
    "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) { token invitation { id email role expiresAt } }\n  }\n": types.InviteMemberDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) { id status }\n  }\n": types.RevokeInvitationDocument,
    "\n  query ApiKeys($first: Int, $after: String, $includeRevoked: Boolean) {\n    apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name scopes status createdAt expiresAt lastUsedAt revokedAt createdBy { email } } }\n    }\n    apiKeyScopes { name description }\n  }\n": types.ApiKeysDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { key apiKey { id name scopes } }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { id status revokedAt }\n  }\n": types.RevokeApiKeyDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id email name }\n  }\n": types.UpdateProfileDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) { ...AuthPayloadFields }\n  }\n": types.ChangePasswordDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n": types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token)\n  }\n": types.VerifyEmailDocument,
    "\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n": types.ResendVerificationEmailDocument,
    "\n  mutation ChangeEmail($input: ChangeEmailInput!) {\n    changeEmail(input: $input)\n  }\n": types.ChangeEmailDocument,
    "\n  mutation CompleteTwoFactorSignIn($input: CompleteTwoFactorSignInInput!) {\n    completeTwoFactorSignIn(input: $input) { ...AuthPayloadFields }\n  }\n": types.CompleteTwoFactorSignInDocument,
    "\n  mutation StartTwoFactorEnrollment {\n    startTwoFactorEnrollment { secret otpauthUrl }\n  }\n": types.StartTwoFactorEnrollmentDocument,
    "\n  mutation ConfirmTwoFactorEnrollment($code: String!) {\n    confirmTwoFactorEnrollment(code: $code) { recoveryCodes }\n  }\n": types.ConfirmTwoFactorEnrollmentDocument,
    "\n  mutation DisableTwoFactor($currentPassword: String!) {\n    disableTwoFactor(currentPassword: $currentPassword)\n  }\n": types.DisableTwoFactorDocument,
    "\n  mutation SetTwoFactorRequired($required: Boolean!) {\n    setTwoFactorRequired(required: $required) { id requireTwoFactor }\n  }\n": types.SetTwoFactorRequiredDocument,
    "\n  mutation ResetMemberTwoFactor($membershipId: ID!) {\n    resetMemberTwoFactor(membershipId: $membershipId) { id user { id twoFactorEnabled } }\n  }\n": types.ResetMemberTwoFactorDocument,
    "\n  query RateLimits {\n    rateLimits { id name limit per used createdBy updatedAt }\n  }\n": types.RateLimitsDocument,
    "\n  mutation CreateRateLimit($input: CreateRateLimitInput!) {\n    createRateLimit(input: $input) { id name limit per }\n  }\n": types.CreateRateLimitDocument,
    "\n  mutation UpdateRateLimit($id: ID!, $input: UpdateRateLimitInput!) {\n    updateRateLimit(id: $id, input: $input) { id name limit per }\n  }\n": types.UpdateRateLimitDocument,
    "\n  mutation DeleteRateLimit($id: ID!) {\n    deleteRateLimit(id: $id) { id }\n  }\n": types.DeleteRateLimitDocument,
    "\n  query OrganizationLimits {\n    organizationLimits {\n      runningTasksPerPool\n      runsStartedPerMinute\n      queuedTasks\n      weight\n      pools\n      usage { runsStartedLastMinute queuedTasks runningTasks { pool running } }\n    }\n  }\n": types.OrganizationLimitsDocument,
    "\n  query RunMetrics($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workflowId: ID, $appId: ID, $workerId: ID) {\n    runMetrics(from: $from, to: $to, bucket: $bucket, workflowId: $workflowId, appId: $appId, workerId: $workerId) {\n      from\n      to\n      bucket\n      buckets {\n        start\n        counts { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }\n      }\n      totals { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }\n      failureCodes { code runs firstAt lastAt lastMessage lastRunId }\n    }\n  }\n": types.RunMetricsDocument,
    "\n  query PoolSlotUsage($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $pool: String) {\n    poolSlotUsage(from: $from, to: $to, bucket: $bucket, pool: $pool) {\n      from\n      to\n      bucket\n      pools {\n        pool\n        points { start busySlots peakBusySlots totalSlots utilization }\n      }\n    }\n  }\n": types.PoolSlotUsageDocument,
    "\n  fragment NotificationFields on Notification {\n    id type title body link createdAt readAt\n  }\n": types.NotificationFieldsFragmentDoc,
    "\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      nodes { ...NotificationFields }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.NotificationsDocument,
    "\n  query UnreadNotificationCount {\n    unreadNotificationCount\n  }\n": types.UnreadNotificationCountDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!]!) {\n    markNotificationsRead(ids: $ids) { id readAt }\n  }\n": types.MarkNotificationsReadDocument,
    "\n  mutation MarkAllNotificationsRead {\n    markAllNotificationsRead\n  }\n": types.MarkAllNotificationsReadDocument,
    "\n  subscription NotificationAdded {\n    notificationAdded { ...NotificationFields }\n  }\n": types.NotificationAddedDocument,
    "\n  query NotificationPreferences {\n    notificationPreferences {\n      emailMode\n      events { type label inApp email required custom }\n    }\n  }\n": types.NotificationPreferencesDocument,
    "\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      emailMode\n      events { type label inApp email required custom }\n    }\n  }\n": types.UpdateNotificationPreferencesDocument,
    "\n  fragment TimelineAttemptFields on TaskAttempt {\n    id\n    number\n    taskId\n    stepId\n    itemIndex\n    status\n    workerId\n    queuedAt\n    startedAt\n    finishedAt\n    error { code message }\n  }\n": types.TimelineAttemptFieldsFragmentDoc,
    "\n  query RunAttempts($id: ID!, $first: Int, $after: String) {\n    run(id: $id) {\n      id\n      lastSeq\n      attempts(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { ...TimelineAttemptFields } }\n      }\n    }\n  }\n": types.RunAttemptsDocument,
    "\n  query TaskAttempts($id: ID!) {\n    task(id: $id) { id attemptHistory { ...TimelineAttemptFields } }\n  }\n": types.TaskAttemptsDocument,
    "\n  fragment EventLogFields on RunEvent {\n    seq\n    kind\n    at\n    taskId\n    stepId\n    runStatus\n    taskStatus\n    attemptId\n    attempt\n    message\n    level\n    error { code message }\n    outputDelta { text }\n    waitReason { kind message }\n  }\n": types.EventLogFieldsFragmentDoc,
    "\n  query RunEventLog($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) {\n      id\n      lastSeq\n      events(afterSeq: $afterSeq, first: $first) { ...EventLogFields }\n    }\n  }\n": types.RunEventLogDocument,
    "\n  subscription RunEventLogLive($runId: ID!, $afterSeq: Int!) {\n    runEventBatches(runId: $runId, afterSeq: $afterSeq) { lastSeq events { ...EventLogFields } }\n  }\n": types.RunEventLogLiveDocument,
    "\n  fragment RunSummaryFields on Run {\n    id\n    status\n    workflowVersion\n    workflow { id name }\n    startedByName\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    error { code message stepId }\n  }\n": types.RunSummaryFieldsFragmentDoc,
    "\n  fragment TaskRowFields on Task {\n    id\n    stepId\n    capability\n    status\n    dependsOn\n    error { code message retryable stepId }\n    attempts\n    maxAttempts\n    progress\n    progressMessage\n    pool\n    workerId\n    gpus { index model memoryMiB }\n    waitReason { kind message since }\n    queuedAt\n    startedAt\n    finishedAt\n    durationMs\n    # Only what counting attempts across restarts needs (\"1/3 · 2 in all\"); the panel fetches the rest.\n    attemptHistory { number queuedAt }\n    # A forEach step's items by status (its items themselves are paged: TaskItems).\n    itemCounts { ...ItemCountFields }\n  }\n": types.TaskRowFieldsFragmentDoc,
    "\n  fragment ItemCountFields on TaskItemCounts {\n    total\n    pending\n    queued\n    running\n    succeeded\n    failed\n    cancelled\n  }\n": types.ItemCountFieldsFragmentDoc,
    "\n  fragment TaskFields on Task {\n    ...TaskRowFields\n    itemIndex\n    input\n    output\n    # What its attempts spent: model calls (llm, browser.agent) and GPU time.\n    usage { calls failedCalls promptTokens completionTokens costUsd gpuSeconds }\n    attemptHistory {\n      id\n      number\n      status\n      workerId\n      queuedAt\n      startedAt\n      finishedAt\n      durationMs\n      error { code message }\n    }\n  }\n": types.TaskFieldsFragmentDoc,
    "\n  query Runs($first: Int, $after: String, $filter: RunFilter) {\n    runs(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...RunSummaryFields idempotencyKey } }\n    }\n  }\n": types.RunsDocument,
    "\n  query RunAgainSource($id: ID!) {\n    run(id: $id) { id input workflowVersion workflow { id name versions { number } } }\n  }\n": types.RunAgainSourceDocument,
    "\n  mutation CancelRuns($ids: [ID!]!, $reason: String) {\n    cancelRuns(ids: $ids, reason: $reason) { id run { id status cancelReason } error { code reason message } }\n  }\n": types.CancelRunsDocument,
    "\n  mutation RetryRuns($ids: [ID!]!) {\n    retryRuns(ids: $ids) { id run { id status } error { code reason message } }\n  }\n": types.RetryRunsDocument,
    "\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunSummaryFields\n      input\n      output\n      idempotencyKey\n      cancelReason\n      lastSeq\n      app { id name }\n      tasks { ...TaskRowFields }\n    }\n  }\n": types.RunDocument,
    "\n  query TaskDetail($id: ID!) {\n    task(id: $id) { ...TaskFields }\n  }\n": types.TaskDetailDocument,
    "\n  query RunWaits($id: ID!) {\n    run(id: $id) {\n      id\n      tasks { id status waitReason { kind message since } }\n    }\n  }\n": types.RunWaitsDocument,
    "\n  query RunItemCounts($id: ID!) {\n    run(id: $id) {\n      id\n      lastSeq\n      tasks { id itemCounts { ...ItemCountFields } }\n    }\n  }\n": types.RunItemCountsDocument,
    "\n  query TaskItems($id: ID!, $first: Int, $after: String, $status: TaskStatus) {\n    task(id: $id) {\n      id\n      items(first: $first, after: $after, status: $status) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { ...TaskRowFields itemIndex } }\n      }\n    }\n  }\n": types.TaskItemsDocument,
    "\n  query TaskLogs($id: ID!, $afterSeq: Int, $first: Int) {\n    task(id: $id) {\n      id\n      logs(afterSeq: $afterSeq, first: $first) { seq at level message attempt }\n    }\n  }\n": types.TaskLogsDocument,
    "\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { id status cancelReason }\n  }\n": types.CancelRunDocument,
    "\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) { id status }\n  }\n": types.RetryRunDocument,
    "\n  query DeadLetters($first: Int, $after: String, $filter: DeadLetterFilter) {\n    deadLetters(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          stepId\n          attempts\n          createdAt\n          replayedAt\n          replayedBy\n          discardedAt\n          discardedBy\n          error { code message retryable }\n          run { id status workflow { id name } }\n        }\n      }\n    }\n  }\n": types.DeadLettersDocument,
    "\n  query DeadLetterGroups {\n    deadLetterGroups { errorCode stepId count lastAt message workflow { id name } }\n  }\n": types.DeadLetterGroupsDocument,
    "\n  mutation ReplayDeadLetters($ids: [ID!]!) {\n    replayDeadLetters(ids: $ids) { id deadLetter { id replayedAt run { id status } } error { code reason message } }\n  }\n": types.ReplayDeadLettersDocument,
    "\n  mutation DiscardDeadLetters($ids: [ID!]!) {\n    discardDeadLetters(ids: $ids) { id deadLetter { id discardedAt } error { code reason message } }\n  }\n": types.DiscardDeadLettersDocument,
    "\n  mutation ReplayDeadLetter($id: ID!) {\n    replayDeadLetter(id: $id) { id status }\n  }\n": types.ReplayDeadLetterDocument,
    "\n  subscription RunEventBatches($runId: ID!, $afterSeq: Int!, $withOutput: Boolean!, $progressOf: [ID!]) {\n    runEventBatches(runId: $runId, afterSeq: $afterSeq, progressOf: $progressOf) {\n      lastSeq\n      events {\n        seq\n        kind\n        at\n        runStatus\n        taskId\n        stepId\n        taskStatus\n        attempt\n        progress\n        message\n        level\n        error { code message retryable stepId }\n        attemptId @include(if: $withOutput)\n        outputDelta @include(if: $withOutput) { seq offset text restart }\n      }\n    }\n  }\n": types.RunEventBatchesDocument,
    "\n  query TaskStreamedOutput($id: ID!) {\n    task(id: $id) {\n      id\n      streamedOutput { attemptId text throughSeq deltaSeq }\n    }\n  }\n": types.TaskStreamedOutputDocument,
    "\n  subscription RunStatusChanged($workflowId: ID) {\n    runStatusChanged(workflowId: $workflowId) {\n      seq\n      runId\n      runStatus\n      run { ...RunSummaryFields }\n    }\n  }\n": types.RunStatusChangedDocument,
    "\n  query TaskArtifacts($id: ID!) {\n    task(id: $id) {\n      id\n      attemptHistory { id number artifacts { id name contentType sizeBytes sha256 createdAt downloadUrl } }\n    }\n  }\n": types.TaskArtifactsDocument,
    "\n  query Secrets {\n    secrets { id name version createdAt createdBy updatedAt updatedBy lastUsedAt }\n  }\n": types.SecretsDocument,
    "\n  mutation CreateSecret($name: String!, $value: String!) {\n    createSecret(name: $name, value: $value) { id name version }\n  }\n": types.CreateSecretDocument,
    "\n  mutation RotateSecret($name: String!, $value: String!) {\n    rotateSecret(name: $name, value: $value) { id name version updatedAt }\n  }\n": types.RotateSecretDocument,
    "\n  mutation DeleteSecret($name: String!) {\n    deleteSecret(name: $name) { id name }\n  }\n": types.DeleteSecretDocument,
    "\n  query WebhookEndpoints {\n    webhookEndpoints { id url description events enabled disabledAt disabledReason createdAt secretRotatedAt previousSecretExpiresAt }\n    notificationEventTypes { type label }\n  }\n": types.WebhookEndpointsDocument,
    "\n  query WebhookDeliveries($id: ID!, $first: Int, $after: String) {\n    webhookEndpoint(id: $id) {\n      id\n      url\n      deliveries(first: $first, after: $after) {\n        nodes {\n          id eventId eventType status attempts createdAt deliveredAt nextAttemptAt lastStatusCode lastLatencyMs lastResponseExcerpt lastError redeliveryOf\n          attemptLog { attemptedAt statusCode latencyMs error succeeded }\n        }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n": types.WebhookDeliveriesDocument,
    "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { id url events } }\n  }\n": types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { id url description events enabled disabledAt }\n  }\n": types.UpdateWebhookEndpointDocument,
    "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n": types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { id secretRotatedAt previousSecretExpiresAt } }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation RedeliverWebhook($deliveryId: ID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { id status }\n  }\n": types.RedeliverWebhookDocument,
    "\n  fragment SsoConnectionFields on SsoConnection {\n    id\n    slug\n    issuer\n    clientId\n    clientSecretSet\n    domains\n    defaultRole\n    requireSso\n    redirectUri\n    updatedAt\n  }\n": types.SsoConnectionFieldsFragmentDoc,
    "\n  query SsoConnection {\n    ssoConnection { ...SsoConnectionFields }\n  }\n": types.SsoConnectionDocument,
    "\n  query TestSsoConnection($issuer: String!) {\n    testSsoConnection(issuer: $issuer) { issuer authorizationEndpoint tokenEndpoint jwksUri userinfoEndpoint supportsPkce }\n  }\n": types.TestSsoConnectionDocument,
    "\n  mutation ConfigureSso($input: ConfigureSsoInput!) {\n    configureSso(input: $input) { ...SsoConnectionFields }\n  }\n": types.ConfigureSsoDocument,
    "\n  mutation DeleteSsoConnection {\n    deleteSsoConnection\n  }\n": types.DeleteSsoConnectionDocument,
    "\n  mutation StartSsoSignIn($input: StartSsoSignInInput!) {\n    startSsoSignIn(input: $input) { authorizationUrl binding expiresAt }\n  }\n": types.StartSsoSignInDocument,
    "\n  mutation CompleteSsoSignIn($input: CompleteSsoSignInInput!) {\n    completeSsoSignIn(input: $input) { ...AuthPayloadFields }\n  }\n": types.CompleteSsoSignInDocument,
    "\n  fragment StepFields on Step {\n    id\n    capability\n    input\n    dependsOn\n    retry { maxAttempts initialDelayMs backoffFactor maxDelayMs }\n    timeoutMs\n    pool\n    labels { key value }\n  }\n": types.StepFieldsFragmentDoc,
    "\n  query Workflows($first: Int, $after: String, $filter: WorkflowFilter) {\n    workflows(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          name\n          description\n          updatedAt\n          app { id name }\n          latestVersion { number steps { id } }\n        }\n      }\n    }\n  }\n": types.WorkflowsDocument,
    "\n  query Workflow($id: ID!) {\n    workflow(id: $id) {\n      id\n      name\n      description\n      createdBy\n      createdAt\n      updatedAt\n      app { id name }\n      latestVersion { number }\n      versions { number createdBy createdAt steps { ...StepFields } }\n    }\n  }\n": types.WorkflowDocument,
    "\n  query Capabilities {\n    capabilities\n  }\n": types.CapabilitiesDocument,
    "\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) { id name latestVersion { number } }\n  }\n": types.CreateWorkflowDocument,
    "\n  mutation PublishWorkflowVersion($workflowId: ID!, $steps: [StepInput!]!) {\n    publishWorkflowVersion(workflowId: $workflowId, steps: $steps) { workflowId number }\n  }\n": types.PublishWorkflowVersionDocument,
    "\n  mutation StartRun($input: StartRunInput!) {\n    startRun(input: $input) { deduplicated run { id status } }\n  }\n": types.StartRunDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageSeries($from: DateTime!, $to: DateTime!, $splitBy: UsageSplitBy!) {\n    usageSeries(from: $from, to: $to, splitBy: $splitBy) {\n      day\n      key\n      app { id name }\n      workflow { id name }\n      calls\n      failedCalls\n      promptTokens\n      completionTokens\n      totalTokens\n      costUsd\n      gpuSeconds\n    }\n  }\n"): typeof import('./graphql').UsageSeriesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LlmProviders {\n    llmProviders {\n      id\n      name\n      baseUrl\n      apiKeySecret\n      models { alias model pricePer1MInput pricePer1MOutput }\n      pricePer1MInput\n      pricePer1MOutput\n      requestsPerMinute\n      tokensPerMinute\n      timeoutMs\n      workerLocal\n      updatedAt\n      updatedBy\n    }\n  }\n"): typeof import('./graphql').LlmProvidersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProviderSecretChoices {\n    secrets { id name }\n  }\n"): typeof import('./graphql').ProviderSecretChoicesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateLlmProvider($input: CreateLlmProviderInput!) {\n    createLlmProvider(input: $input) { id name }\n  }\n"): typeof import('./graphql').CreateLlmProviderDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateLlmProvider($id: ID!, $input: UpdateLlmProviderInput!) {\n    updateLlmProvider(id: $id, input: $input) { id name }\n  }\n"): typeof import('./graphql').UpdateLlmProviderDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteLlmProvider($id: ID!) {\n    deleteLlmProvider(id: $id) { id name }\n  }\n"): typeof import('./graphql').DeleteLlmProviderDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TestLlmProvider($id: ID!, $model: String) {\n    testLlmProvider(id: $id, model: $model) { ok model latencyMs message }\n  }\n"): typeof import('./graphql').TestLlmProviderDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ApprovalFields on Approval {\n    id\n    stepId\n    status\n    message\n    roles\n    canDecide\n    waitingSince\n    deadline\n    onTimeout\n    decision\n    decidedBy\n    comment\n    decidedAt\n  }\n"): typeof import('./graphql').ApprovalFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PendingApprovals($first: Int, $after: String) {\n    pendingApprovals(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          ...ApprovalFields\n          task { id }\n          run { id status workflow { id name } }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').PendingApprovalsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PendingApprovalCount {\n    pendingApprovals(first: 1) { totalCount }\n  }\n"): typeof import('./graphql').PendingApprovalCountDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskApproval($id: ID!) {\n    task(id: $id) { id approval { ...ApprovalFields } }\n  }\n"): typeof import('./graphql').TaskApprovalDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ApproveTask($taskId: ID!, $comment: String) {\n    approveTask(taskId: $taskId, comment: $comment) { id status }\n  }\n"): typeof import('./graphql').ApproveTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RejectTask($taskId: ID!, $comment: String) {\n    rejectTask(taskId: $taskId, comment: $comment) { id status }\n  }\n"): typeof import('./graphql').RejectTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Apps($first: Int, $after: String, $filter: AppFilter, $orderBy: AppOrder) {\n    apps(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          slug\n          name\n          description\n          status\n          tags\n          updatedAt\n          health { status since uptime { ratio } }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').AppsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query App($id: ID!) {\n    app(id: $id) {\n      id\n      slug\n      name\n      description\n      status\n      tags\n      createdAt\n      updatedAt\n      healthCheckUrl\n      owner { id email name }\n      configSchema\n      configSchemaVersion\n      health {\n        status\n        since\n        lastCheckedAt\n        lastLatencyMs\n        lastHttpStatus\n        lastError\n        checksTotal\n        checksFailed\n        monitoringSince\n        day: uptime(windowSeconds: 86400) { ratio upSeconds downSeconds unknownSeconds }\n        week: uptime(windowSeconds: 604800) { ratio }\n        history(first: 20) { edges { node { id status previousStatus changedAt httpStatus error } } }\n      }\n      currentConfig { version }\n      configVersions(first: 50) {\n        edges { node { version config message schemaVersion createdAt isCurrent createdBy { email } } }\n      }\n      configActivations(first: 20) {\n        edges { node { id version previousVersion kind reason activatedAt activatedBy { email } } }\n      }\n      stats(window: LAST_24_HOURS) { runs succeeded failed cancelled active successRate p50DurationMs p95DurationMs }\n      workflows { id name }\n    }\n  }\n"): typeof import('./graphql').AppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApp($input: CreateAppInput!) {\n    createApp(input: $input) { id slug }\n  }\n"): typeof import('./graphql').CreateAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PublishAppConfig($appId: ID!, $config: JSON!, $message: String) {\n    publishAppConfig(id: $appId, config: $config, message: $message) { version }\n  }\n"): typeof import('./graphql').PublishAppConfigDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RollbackAppConfig($appId: ID!, $version: Int!, $reason: String) {\n    rollbackAppConfig(id: $appId, version: $version, reason: $reason) { version isCurrent }\n  }\n"): typeof import('./graphql').RollbackAppConfigDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseApp($id: ID!) {\n    pauseApp(id: $id) { id status }\n  }\n"): typeof import('./graphql').PauseAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeApp($id: ID!) {\n    resumeApp(id: $id) { id status }\n  }\n"): typeof import('./graphql').ResumeAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ArchiveApp($id: ID!) {\n    archiveApp(id: $id) { id status }\n  }\n"): typeof import('./graphql').ArchiveAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestoreApp($id: ID!) {\n    restoreApp(id: $id) { id status }\n  }\n"): typeof import('./graphql').RestoreAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateApp($id: ID!, $input: UpdateAppInput!) {\n    updateApp(id: $id, input: $input) { id slug name description tags healthCheckUrl owner { id email name } }\n  }\n"): typeof import('./graphql').UpdateAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($filter: AuditLogFilter, $first: Int, $after: String) {\n    auditLog(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          sequence\n          occurredAt\n          service\n          action\n          targetType\n          targetId\n          outcome\n          requestId\n          ip\n          userAgent\n          diff\n          actor { kind id display }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').AuditLogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLogExport($filter: AuditLogFilter, $format: AuditExportFormat!, $first: Int, $after: String) {\n    auditLogExport(filter: $filter, format: $format, first: $first, after: $after) {\n      format\n      contentType\n      fileName\n      content\n      eventCount\n      nextCursor\n    }\n  }\n"): typeof import('./graphql').AuditLogExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query VerifyAuditChain($from: DateTime, $to: DateTime) {\n    verifyAuditChain(from: $from, to: $to) {\n      ok\n      checkedEvents\n      firstSequence\n      lastSequence\n      anchor\n      witnessedHeadsChecked\n      break { reason sequence message expected actual }\n    }\n  }\n"): typeof import('./graphql').VerifyAuditChainDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workers($filter: WorkerFilter) {\n    workers(filter: $filter) {\n      id\n      endpoint\n      pool\n      capabilities\n      slotsTotal\n      slotsFree\n      running\n      labels { key value }\n      version\n      llmEndpoints\n      status\n      registeredAt\n      lastHeartbeatAt\n      leaseExpiresAt\n      resources {\n        cpuCount\n        cpuLoad\n        memoryTotalBytes\n        memoryUsedBytes\n        gpus { index model memoryTotalBytes memoryUsedBytes utilizationPercent }\n      }\n    }\n  }\n"): typeof import('./graphql').WorkersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Triggers {\n    triggers {\n      id\n      eventName\n      filter\n      hasWebhook\n      webhookUrl\n      webhookSecretRotatedAt\n      createdAt\n      workflow { id name }\n    }\n    workflows(first: 100) { edges { node { id name } } }\n  }\n"): typeof import('./graphql').TriggersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TriggerDeliveries($id: ID!, $first: Int) {\n    trigger(id: $id) {\n      id\n      deliveries(first: $first) {\n        id\n        receivedAt\n        outcome\n        reason\n        message\n        bodyBytes\n        sourceIp\n        event { id starts { run { id status } error } }\n      }\n    }\n  }\n"): typeof import('./graphql').TriggerDeliveriesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTrigger($input: CreateTriggerInput!) {\n    createTrigger(input: $input) { trigger { id webhookUrl } webhookSecret }\n  }\n"): typeof import('./graphql').CreateTriggerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateTriggerSecret($id: ID!) {\n    rotateTriggerSecret(id: $id) { trigger { id webhookUrl } webhookSecret }\n  }\n"): typeof import('./graphql').RotateTriggerSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteTrigger($id: ID!) {\n    deleteTrigger(id: $id) { id }\n  }\n"): typeof import('./graphql').DeleteTriggerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Schedules {\n    schedules {\n      id\n      cron\n      timezone\n      overlap\n      catchUp\n      paused\n      nextFireAt\n      lastFireAt\n      nextRuns(n: 3)\n      workflow { id name }\n    }\n  }\n"): typeof import('./graphql').SchedulesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseSchedule($id: ID!) {\n    pauseSchedule(id: $id) { id paused nextFireAt }\n  }\n"): typeof import('./graphql').PauseScheduleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeSchedule($id: ID!) {\n    resumeSchedule(id: $id) { id paused nextFireAt }\n  }\n"): typeof import('./graphql').ResumeScheduleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateSchedule($id: ID!, $input: UpdateScheduleInput!) {\n    updateSchedule(id: $id, input: $input) { id cron timezone nextFireAt }\n  }\n"): typeof import('./graphql').UpdateScheduleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ScheduleForm {\n    workflows(first: 100) { edges { node { id name } } }\n  }\n"): typeof import('./graphql').ScheduleFormDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CronPreview($cron: String!, $timezone: String, $n: Int) {\n    cronPreview(cron: $cron, timezone: $timezone, n: $n) { cron timezone nextRuns }\n  }\n"): typeof import('./graphql').CronPreviewDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSchedule($input: CreateScheduleInput!) {\n    createSchedule(input: $input) { id cron timezone nextFireAt }\n  }\n"): typeof import('./graphql').CreateScheduleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteSchedule($id: ID!) {\n    deleteSchedule(id: $id) { id }\n  }\n"): typeof import('./graphql').DeleteScheduleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ScheduleFires($id: ID!, $first: Int) {\n    schedule(id: $id) {\n      id\n      fires(first: $first) { tickAt outcome reason firedAt run { id status } }\n    }\n  }\n"): typeof import('./graphql').ScheduleFiresDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    refreshTokenExpiresAt\n    role\n    user { id email name }\n    organization { id name }\n  }\n"): typeof import('./graphql').AuthPayloadFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').LoginDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').SignUpDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').RefreshTokenDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n"): typeof import('./graphql').LogoutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SwitchOrganization($organizationId: ID!, $refreshToken: String) {\n    switchOrganization(organizationId: $organizationId, refreshToken: $refreshToken) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').SwitchOrganizationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').AcceptInvitationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOrganization($input: CreateOrganizationInput!) {\n    createOrganization(input: $input) { id name }\n  }\n"): typeof import('./graphql').CreateOrganizationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      role\n      twoFactorEnrollmentRequired\n      user { id email name emailVerified pendingEmail twoFactorEnabled }\n      organization { id name requireTwoFactor }\n      memberships { id role organization { id name } }\n    }\n  }\n"): typeof import('./graphql').MeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Members($first: Int, $after: String, $search: String, $withApiKeys: Boolean = false) {\n    members(first: $first, after: $after, search: $search) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id role createdAt activeApiKeysCreated @include(if: $withApiKeys) user { id email name twoFactorEnabled @include(if: $withApiKeys) } } }\n    }\n  }\n"): typeof import('./graphql').MembersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangeMemberRole($id: ID!, $role: Role!) {\n    changeMemberRole(id: $id, role: $role) { id role }\n  }\n"): typeof import('./graphql').ChangeMemberRoleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($id: ID!) {\n    removeMember(id: $id) { id }\n  }\n"): typeof import('./graphql').RemoveMemberDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Invitations($first: Int, $after: String, $includeClosed: Boolean) {\n    invitations(first: $first, after: $after, includeClosed: $includeClosed) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id email role status createdAt expiresAt acceptedAt revokedAt invitedBy { email } } }\n    }\n  }\n"): typeof import('./graphql').InvitationsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) { token invitation { id email role expiresAt } }\n  }\n"): typeof import('./graphql').InviteMemberDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) { id status }\n  }\n"): typeof import('./graphql').RevokeInvitationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys($first: Int, $after: String, $includeRevoked: Boolean) {\n    apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name scopes status createdAt expiresAt lastUsedAt revokedAt createdBy { email } } }\n    }\n    apiKeyScopes { name description }\n  }\n"): typeof import('./graphql').ApiKeysDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) { key apiKey { id name scopes } }\n  }\n"): typeof import('./graphql').CreateApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) { id status revokedAt }\n  }\n"): typeof import('./graphql').RevokeApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) { id email name }\n  }\n"): typeof import('./graphql').UpdateProfileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').ChangePasswordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"): typeof import('./graphql').RequestPasswordResetDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n"): typeof import('./graphql').ResetPasswordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token)\n  }\n"): typeof import('./graphql').VerifyEmailDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResendVerificationEmail {\n    resendVerificationEmail\n  }\n"): typeof import('./graphql').ResendVerificationEmailDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangeEmail($input: ChangeEmailInput!) {\n    changeEmail(input: $input)\n  }\n"): typeof import('./graphql').ChangeEmailDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteTwoFactorSignIn($input: CompleteTwoFactorSignInInput!) {\n    completeTwoFactorSignIn(input: $input) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').CompleteTwoFactorSignInDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartTwoFactorEnrollment {\n    startTwoFactorEnrollment { secret otpauthUrl }\n  }\n"): typeof import('./graphql').StartTwoFactorEnrollmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmTwoFactorEnrollment($code: String!) {\n    confirmTwoFactorEnrollment(code: $code) { recoveryCodes }\n  }\n"): typeof import('./graphql').ConfirmTwoFactorEnrollmentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisableTwoFactor($currentPassword: String!) {\n    disableTwoFactor(currentPassword: $currentPassword)\n  }\n"): typeof import('./graphql').DisableTwoFactorDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTwoFactorRequired($required: Boolean!) {\n    setTwoFactorRequired(required: $required) { id requireTwoFactor }\n  }\n"): typeof import('./graphql').SetTwoFactorRequiredDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetMemberTwoFactor($membershipId: ID!) {\n    resetMemberTwoFactor(membershipId: $membershipId) { id user { id twoFactorEnabled } }\n  }\n"): typeof import('./graphql').ResetMemberTwoFactorDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RateLimits {\n    rateLimits { id name limit per used createdBy updatedAt }\n  }\n"): typeof import('./graphql').RateLimitsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateRateLimit($input: CreateRateLimitInput!) {\n    createRateLimit(input: $input) { id name limit per }\n  }\n"): typeof import('./graphql').CreateRateLimitDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateRateLimit($id: ID!, $input: UpdateRateLimitInput!) {\n    updateRateLimit(id: $id, input: $input) { id name limit per }\n  }\n"): typeof import('./graphql').UpdateRateLimitDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteRateLimit($id: ID!) {\n    deleteRateLimit(id: $id) { id }\n  }\n"): typeof import('./graphql').DeleteRateLimitDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrganizationLimits {\n    organizationLimits {\n      runningTasksPerPool\n      runsStartedPerMinute\n      queuedTasks\n      weight\n      pools\n      usage { runsStartedLastMinute queuedTasks runningTasks { pool running } }\n    }\n  }\n"): typeof import('./graphql').OrganizationLimitsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunMetrics($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workflowId: ID, $appId: ID, $workerId: ID) {\n    runMetrics(from: $from, to: $to, bucket: $bucket, workflowId: $workflowId, appId: $appId, workerId: $workerId) {\n      from\n      to\n      bucket\n      buckets {\n        start\n        counts { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }\n      }\n      totals { total queued running succeeded failed cancelled scheduled failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }\n      failureCodes { code runs firstAt lastAt lastMessage lastRunId }\n    }\n  }\n"): typeof import('./graphql').RunMetricsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PoolSlotUsage($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $pool: String) {\n    poolSlotUsage(from: $from, to: $to, bucket: $bucket, pool: $pool) {\n      from\n      to\n      bucket\n      pools {\n        pool\n        points { start busySlots peakBusySlots totalSlots utilization }\n      }\n    }\n  }\n"): typeof import('./graphql').PoolSlotUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment NotificationFields on Notification {\n    id type title body link createdAt readAt\n  }\n"): typeof import('./graphql').NotificationFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {\n    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {\n      nodes { ...NotificationFields }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): typeof import('./graphql').NotificationsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UnreadNotificationCount {\n    unreadNotificationCount\n  }\n"): typeof import('./graphql').UnreadNotificationCountDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkNotificationsRead($ids: [ID!]!) {\n    markNotificationsRead(ids: $ids) { id readAt }\n  }\n"): typeof import('./graphql').MarkNotificationsReadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkAllNotificationsRead {\n    markAllNotificationsRead\n  }\n"): typeof import('./graphql').MarkAllNotificationsReadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationAdded {\n    notificationAdded { ...NotificationFields }\n  }\n"): typeof import('./graphql').NotificationAddedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NotificationPreferences {\n    notificationPreferences {\n      emailMode\n      events { type label inApp email required custom }\n    }\n  }\n"): typeof import('./graphql').NotificationPreferencesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateNotificationPreferences($input: NotificationPreferencesInput!) {\n    updateNotificationPreferences(input: $input) {\n      emailMode\n      events { type label inApp email required custom }\n    }\n  }\n"): typeof import('./graphql').UpdateNotificationPreferencesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TimelineAttemptFields on TaskAttempt {\n    id\n    number\n    taskId\n    stepId\n    itemIndex\n    status\n    workerId\n    queuedAt\n    startedAt\n    finishedAt\n    error { code message }\n  }\n"): typeof import('./graphql').TimelineAttemptFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunAttempts($id: ID!, $first: Int, $after: String) {\n    run(id: $id) {\n      id\n      lastSeq\n      attempts(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { ...TimelineAttemptFields } }\n      }\n    }\n  }\n"): typeof import('./graphql').RunAttemptsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskAttempts($id: ID!) {\n    task(id: $id) { id attemptHistory { ...TimelineAttemptFields } }\n  }\n"): typeof import('./graphql').TaskAttemptsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EventLogFields on RunEvent {\n    seq\n    kind\n    at\n    taskId\n    stepId\n    runStatus\n    taskStatus\n    attemptId\n    attempt\n    message\n    level\n    error { code message }\n    outputDelta { text }\n    waitReason { kind message }\n  }\n"): typeof import('./graphql').EventLogFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunEventLog($id: ID!, $afterSeq: Int, $first: Int) {\n    run(id: $id) {\n      id\n      lastSeq\n      events(afterSeq: $afterSeq, first: $first) { ...EventLogFields }\n    }\n  }\n"): typeof import('./graphql').RunEventLogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunEventLogLive($runId: ID!, $afterSeq: Int!) {\n    runEventBatches(runId: $runId, afterSeq: $afterSeq) { lastSeq events { ...EventLogFields } }\n  }\n"): typeof import('./graphql').RunEventLogLiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunSummaryFields on Run {\n    id\n    status\n    workflowVersion\n    workflow { id name }\n    startedByName\n    createdAt\n    startedAt\n    finishedAt\n    durationMs\n    error { code message stepId }\n  }\n"): typeof import('./graphql').RunSummaryFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskRowFields on Task {\n    id\n    stepId\n    capability\n    status\n    dependsOn\n    error { code message retryable stepId }\n    attempts\n    maxAttempts\n    progress\n    progressMessage\n    pool\n    workerId\n    gpus { index model memoryMiB }\n    waitReason { kind message since }\n    queuedAt\n    startedAt\n    finishedAt\n    durationMs\n    # Only what counting attempts across restarts needs (\"1/3 · 2 in all\"); the panel fetches the rest.\n    attemptHistory { number queuedAt }\n    # A forEach step's items by status (its items themselves are paged: TaskItems).\n    itemCounts { ...ItemCountFields }\n  }\n"): typeof import('./graphql').TaskRowFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ItemCountFields on TaskItemCounts {\n    total\n    pending\n    queued\n    running\n    succeeded\n    failed\n    cancelled\n  }\n"): typeof import('./graphql').ItemCountFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskFields on Task {\n    ...TaskRowFields\n    itemIndex\n    input\n    output\n    # What its attempts spent: model calls (llm, browser.agent) and GPU time.\n    usage { calls failedCalls promptTokens completionTokens costUsd gpuSeconds }\n    attemptHistory {\n      id\n      number\n      status\n      workerId\n      queuedAt\n      startedAt\n      finishedAt\n      durationMs\n      error { code message }\n    }\n  }\n"): typeof import('./graphql').TaskFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Runs($first: Int, $after: String, $filter: RunFilter) {\n    runs(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { ...RunSummaryFields idempotencyKey } }\n    }\n  }\n"): typeof import('./graphql').RunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunAgainSource($id: ID!) {\n    run(id: $id) { id input workflowVersion workflow { id name versions { number } } }\n  }\n"): typeof import('./graphql').RunAgainSourceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelRuns($ids: [ID!]!, $reason: String) {\n    cancelRuns(ids: $ids, reason: $reason) { id run { id status cancelReason } error { code reason message } }\n  }\n"): typeof import('./graphql').CancelRunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryRuns($ids: [ID!]!) {\n    retryRuns(ids: $ids) { id run { id status } error { code reason message } }\n  }\n"): typeof import('./graphql').RetryRunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Run($id: ID!) {\n    run(id: $id) {\n      ...RunSummaryFields\n      input\n      output\n      idempotencyKey\n      cancelReason\n      lastSeq\n      app { id name }\n      tasks { ...TaskRowFields }\n    }\n  }\n"): typeof import('./graphql').RunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskDetail($id: ID!) {\n    task(id: $id) { ...TaskFields }\n  }\n"): typeof import('./graphql').TaskDetailDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunWaits($id: ID!) {\n    run(id: $id) {\n      id\n      tasks { id status waitReason { kind message since } }\n    }\n  }\n"): typeof import('./graphql').RunWaitsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunItemCounts($id: ID!) {\n    run(id: $id) {\n      id\n      lastSeq\n      tasks { id itemCounts { ...ItemCountFields } }\n    }\n  }\n"): typeof import('./graphql').RunItemCountsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskItems($id: ID!, $first: Int, $after: String, $status: TaskStatus) {\n    task(id: $id) {\n      id\n      items(first: $first, after: $after, status: $status) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { ...TaskRowFields itemIndex } }\n      }\n    }\n  }\n"): typeof import('./graphql').TaskItemsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskLogs($id: ID!, $afterSeq: Int, $first: Int) {\n    task(id: $id) {\n      id\n      logs(afterSeq: $afterSeq, first: $first) { seq at level message attempt }\n    }\n  }\n"): typeof import('./graphql').TaskLogsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelRun($id: ID!, $reason: String) {\n    cancelRun(id: $id, reason: $reason) { id status cancelReason }\n  }\n"): typeof import('./graphql').CancelRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryRun($id: ID!) {\n    retryRun(id: $id) { id status }\n  }\n"): typeof import('./graphql').RetryRunDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeadLetters($first: Int, $after: String, $filter: DeadLetterFilter) {\n    deadLetters(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          stepId\n          attempts\n          createdAt\n          replayedAt\n          replayedBy\n          discardedAt\n          discardedBy\n          error { code message retryable }\n          run { id status workflow { id name } }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').DeadLettersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeadLetterGroups {\n    deadLetterGroups { errorCode stepId count lastAt message workflow { id name } }\n  }\n"): typeof import('./graphql').DeadLetterGroupsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayDeadLetters($ids: [ID!]!) {\n    replayDeadLetters(ids: $ids) { id deadLetter { id replayedAt run { id status } } error { code reason message } }\n  }\n"): typeof import('./graphql').ReplayDeadLettersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DiscardDeadLetters($ids: [ID!]!) {\n    discardDeadLetters(ids: $ids) { id deadLetter { id discardedAt } error { code reason message } }\n  }\n"): typeof import('./graphql').DiscardDeadLettersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayDeadLetter($id: ID!) {\n    replayDeadLetter(id: $id) { id status }\n  }\n"): typeof import('./graphql').ReplayDeadLetterDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunEventBatches($runId: ID!, $afterSeq: Int!, $withOutput: Boolean!, $progressOf: [ID!]) {\n    runEventBatches(runId: $runId, afterSeq: $afterSeq, progressOf: $progressOf) {\n      lastSeq\n      events {\n        seq\n        kind\n        at\n        runStatus\n        taskId\n        stepId\n        taskStatus\n        attempt\n        progress\n        message\n        level\n        error { code message retryable stepId }\n        attemptId @include(if: $withOutput)\n        outputDelta @include(if: $withOutput) { seq offset text restart }\n      }\n    }\n  }\n"): typeof import('./graphql').RunEventBatchesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskStreamedOutput($id: ID!) {\n    task(id: $id) {\n      id\n      streamedOutput { attemptId text throughSeq deltaSeq }\n    }\n  }\n"): typeof import('./graphql').TaskStreamedOutputDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunStatusChanged($workflowId: ID) {\n    runStatusChanged(workflowId: $workflowId) {\n      seq\n      runId\n      runStatus\n      run { ...RunSummaryFields }\n    }\n  }\n"): typeof import('./graphql').RunStatusChangedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskArtifacts($id: ID!) {\n    task(id: $id) {\n      id\n      attemptHistory { id number artifacts { id name contentType sizeBytes sha256 createdAt downloadUrl } }\n    }\n  }\n"): typeof import('./graphql').TaskArtifactsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Secrets {\n    secrets { id name version createdAt createdBy updatedAt updatedBy lastUsedAt }\n  }\n"): typeof import('./graphql').SecretsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSecret($name: String!, $value: String!) {\n    createSecret(name: $name, value: $value) { id name version }\n  }\n"): typeof import('./graphql').CreateSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateSecret($name: String!, $value: String!) {\n    rotateSecret(name: $name, value: $value) { id name version updatedAt }\n  }\n"): typeof import('./graphql').RotateSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteSecret($name: String!) {\n    deleteSecret(name: $name) { id name }\n  }\n"): typeof import('./graphql').DeleteSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEndpoints {\n    webhookEndpoints { id url description events enabled disabledAt disabledReason createdAt secretRotatedAt previousSecretExpiresAt }\n    notificationEventTypes { type label }\n  }\n"): typeof import('./graphql').WebhookEndpointsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookDeliveries($id: ID!, $first: Int, $after: String) {\n    webhookEndpoint(id: $id) {\n      id\n      url\n      deliveries(first: $first, after: $after) {\n        nodes {\n          id eventId eventType status attempts createdAt deliveredAt nextAttemptAt lastStatusCode lastLatencyMs lastResponseExcerpt lastError redeliveryOf\n          attemptLog { attemptedAt statusCode latencyMs error succeeded }\n        }\n        pageInfo { hasNextPage endCursor }\n      }\n    }\n  }\n"): typeof import('./graphql').WebhookDeliveriesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) { secret endpoint { id url events } }\n  }\n"): typeof import('./graphql').CreateWebhookEndpointDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(id: $id, input: $input) { id url description events enabled disabledAt }\n  }\n"): typeof import('./graphql').UpdateWebhookEndpointDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id)\n  }\n"): typeof import('./graphql').DeleteWebhookEndpointDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) { secret endpoint { id secretRotatedAt previousSecretExpiresAt } }\n  }\n"): typeof import('./graphql').RotateWebhookSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeliverWebhook($deliveryId: ID!) {\n    redeliverWebhook(deliveryId: $deliveryId) { id status }\n  }\n"): typeof import('./graphql').RedeliverWebhookDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SsoConnectionFields on SsoConnection {\n    id\n    slug\n    issuer\n    clientId\n    clientSecretSet\n    domains\n    defaultRole\n    requireSso\n    redirectUri\n    updatedAt\n  }\n"): typeof import('./graphql').SsoConnectionFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SsoConnection {\n    ssoConnection { ...SsoConnectionFields }\n  }\n"): typeof import('./graphql').SsoConnectionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TestSsoConnection($issuer: String!) {\n    testSsoConnection(issuer: $issuer) { issuer authorizationEndpoint tokenEndpoint jwksUri userinfoEndpoint supportsPkce }\n  }\n"): typeof import('./graphql').TestSsoConnectionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfigureSso($input: ConfigureSsoInput!) {\n    configureSso(input: $input) { ...SsoConnectionFields }\n  }\n"): typeof import('./graphql').ConfigureSsoDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteSsoConnection {\n    deleteSsoConnection\n  }\n"): typeof import('./graphql').DeleteSsoConnectionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartSsoSignIn($input: StartSsoSignInInput!) {\n    startSsoSignIn(input: $input) { authorizationUrl binding expiresAt }\n  }\n"): typeof import('./graphql').StartSsoSignInDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteSsoSignIn($input: CompleteSsoSignInInput!) {\n    completeSsoSignIn(input: $input) { ...AuthPayloadFields }\n  }\n"): typeof import('./graphql').CompleteSsoSignInDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StepFields on Step {\n    id\n    capability\n    input\n    dependsOn\n    retry { maxAttempts initialDelayMs backoffFactor maxDelayMs }\n    timeoutMs\n    pool\n    labels { key value }\n  }\n"): typeof import('./graphql').StepFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workflows($first: Int, $after: String, $filter: WorkflowFilter) {\n    workflows(first: $first, after: $after, filter: $filter) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          name\n          description\n          updatedAt\n          app { id name }\n          latestVersion { number steps { id } }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').WorkflowsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Workflow($id: ID!) {\n    workflow(id: $id) {\n      id\n      name\n      description\n      createdBy\n      createdAt\n      updatedAt\n      app { id name }\n      latestVersion { number }\n      versions { number createdBy createdAt steps { ...StepFields } }\n    }\n  }\n"): typeof import('./graphql').WorkflowDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Capabilities {\n    capabilities\n  }\n"): typeof import('./graphql').CapabilitiesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWorkflow($input: CreateWorkflowInput!) {\n    createWorkflow(input: $input) { id name latestVersion { number } }\n  }\n"): typeof import('./graphql').CreateWorkflowDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PublishWorkflowVersion($workflowId: ID!, $steps: [StepInput!]!) {\n    publishWorkflowVersion(workflowId: $workflowId, steps: $steps) { workflowId number }\n  }\n"): typeof import('./graphql').PublishWorkflowVersionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartRun($input: StartRunInput!) {\n    startRun(input: $input) { deduplicated run { id status } }\n  }\n"): typeof import('./graphql').StartRunDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
