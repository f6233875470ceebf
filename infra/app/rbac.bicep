// Every role assignment of the deployment, each scoped to the one resource it is about. Built-in roles are
// referenced by their role definition GUIDs, which are the same in every subscription.

param keyVaultName string
param storageAccountName string
param applicationInsightsName string

@description('Principal (object) id of the app\'s user-assigned identity.')
param appPrincipalId string

@description('Principal (object) id that may write secrets to the vault, or empty for none.')
param vaultOperatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param vaultOperatorPrincipalType string = 'User'

var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
}

// The app reads secrets; the optional operator principal sets them (platform tokens, webhook secrets).
var vaultAssignments = concat(
  [
    {
      roleId: roles.keyVaultSecretsUser
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  ],
  empty(vaultOperatorPrincipalId)
    ? []
    : [
        {
          roleId: roles.keyVaultSecretsOfficer
          principalId: vaultOperatorPrincipalId
          principalType: vaultOperatorPrincipalType
        }
      ]
)

// Blob Data Owner is what the host needs for identity-based AzureWebJobsStorage (the timer's singleton lease and
// schedule status, host keys) and for reading the Flex Consumption deployment package. Table Data Contributor is
// JobRelay's state store: every instance claims deliveries and records runs in one table. No queue role: JobRelay
// has no queue trigger or binding.
var storageAssignments = [
  {
    roleId: roles.storageBlobDataOwner
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
  {
    roleId: roles.storageTableDataContributor
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
]

// Application Insights has local auth disabled; publishing telemetry needs this role on the component.
var insightsAssignments = [
  {
    roleId: roles.monitoringMetricsPublisher
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
]

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vaultRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in vaultAssignments: {
    name: guid(vault.id, assignment.principalId, assignment.roleId)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleId)
      principalId: assignment.principalId
      principalType: assignment.principalType
    }
  }
]

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in storageAssignments: {
    name: guid(storage.id, assignment.principalId, assignment.roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleId)
      principalId: assignment.principalId
      principalType: assignment.principalType
    }
  }
]

resource insightsRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in insightsAssignments: {
    name: guid(applicationInsights.id, assignment.principalId, assignment.roleId)
    scope: applicationInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.roleId)
      principalId: assignment.principalId
      principalType: assignment.principalType
    }
  }
]
