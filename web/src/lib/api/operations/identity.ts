import { graphql } from '../__generated__';

// Everything the app does with identity: sessions, the viewer, members, invitations, API keys.

graphql(`
  fragment AuthPayloadFields on AuthPayload {
    accessToken
    accessTokenExpiresAt
    refreshToken
    refreshTokenExpiresAt
    role
    user { id email name }
    organization { id name }
  }
`);

export const loginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) { ...AuthPayloadFields }
  }
`);

export const signUpMutation = graphql(`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { ...AuthPayloadFields }
  }
`);

export const refreshTokenMutation = graphql(`
  mutation RefreshToken($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) { ...AuthPayloadFields }
  }
`);

export const logoutMutation = graphql(`
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`);

export const switchOrganizationMutation = graphql(`
  mutation SwitchOrganization($organizationId: ID!, $refreshToken: String) {
    switchOrganization(organizationId: $organizationId, refreshToken: $refreshToken) { ...AuthPayloadFields }
  }
`);

export const acceptInvitationMutation = graphql(`
  mutation AcceptInvitation($input: AcceptInvitationInput!) {
    acceptInvitation(input: $input) { ...AuthPayloadFields }
  }
`);

export const createOrganizationMutation = graphql(`
  mutation CreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { id name }
  }
`);

export const meQuery = graphql(`
  query Me {
    me {
      role
      twoFactorEnrollmentRequired
      user { id email name emailVerified pendingEmail twoFactorEnabled }
      organization { id name requireTwoFactor }
      memberships { id role organization { id name } }
    }
  }
`);

export const membersQuery = graphql(`
  query Members($first: Int, $after: String, $search: String, $withApiKeys: Boolean = false) {
    members(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id role createdAt activeApiKeysCreated @include(if: $withApiKeys) user { id email name twoFactorEnabled @include(if: $withApiKeys) } } }
    }
  }
`);

export const changeMemberRoleMutation = graphql(`
  mutation ChangeMemberRole($id: ID!, $role: Role!) {
    changeMemberRole(id: $id, role: $role) { id role }
  }
`);

export const removeMemberMutation = graphql(`
  mutation RemoveMember($id: ID!) {
    removeMember(id: $id) { id }
  }
`);

export const invitationsQuery = graphql(`
  query Invitations($first: Int, $after: String, $includeClosed: Boolean) {
    invitations(first: $first, after: $after, includeClosed: $includeClosed) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id email role status createdAt expiresAt acceptedAt revokedAt invitedBy { email } } }
    }
  }
`);

export const inviteMemberMutation = graphql(`
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) { token invitation { id email role expiresAt } }
  }
`);

export const revokeInvitationMutation = graphql(`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id) { id status }
  }
`);

export const apiKeysQuery = graphql(`
  query ApiKeys($first: Int, $after: String, $includeRevoked: Boolean) {
    apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name scopes status createdAt expiresAt lastUsedAt revokedAt createdBy { email } } }
    }
    apiKeyScopes { name description }
  }
`);

export const createApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { key apiKey { id name scopes } }
  }
`);

export const revokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) { id status revokedAt }
  }
`);

export const updateProfileMutation = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) { id email name }
  }
`);

export const changePasswordMutation = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) { ...AuthPayloadFields }
  }
`);

export const requestPasswordResetMutation = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

export const resetPasswordMutation = graphql(`
  mutation ResetPassword($input: ResetPasswordInput!) {
    resetPassword(input: $input)
  }
`);

export const verifyEmailMutation = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token)
  }
`);

export const resendVerificationEmailMutation = graphql(`
  mutation ResendVerificationEmail {
    resendVerificationEmail
  }
`);

export const changeEmailMutation = graphql(`
  mutation ChangeEmail($input: ChangeEmailInput!) {
    changeEmail(input: $input)
  }
`);

export const completeTwoFactorSignInMutation = graphql(`
  mutation CompleteTwoFactorSignIn($input: CompleteTwoFactorSignInInput!) {
    completeTwoFactorSignIn(input: $input) { ...AuthPayloadFields }
  }
`);

export const startTwoFactorEnrollmentMutation = graphql(`
  mutation StartTwoFactorEnrollment {
    startTwoFactorEnrollment { secret otpauthUrl }
  }
`);

export const confirmTwoFactorEnrollmentMutation = graphql(`
  mutation ConfirmTwoFactorEnrollment($code: String!) {
    confirmTwoFactorEnrollment(code: $code) { recoveryCodes }
  }
`);

export const disableTwoFactorMutation = graphql(`
  mutation DisableTwoFactor($currentPassword: String!) {
    disableTwoFactor(currentPassword: $currentPassword)
  }
`);

export const setTwoFactorRequiredMutation = graphql(`
  mutation SetTwoFactorRequired($required: Boolean!) {
    setTwoFactorRequired(required: $required) { id requireTwoFactor }
  }
`);

export const resetMemberTwoFactorMutation = graphql(`
  mutation ResetMemberTwoFactor($membershipId: ID!) {
    resetMemberTwoFactor(membershipId: $membershipId) { id user { id twoFactorEnabled } }
  }
`);
