// JobRelay on Azure: one resource group holding a Flex Consumption function app, its user-assigned identity, the
// host/deployment storage account, Key Vault, Log Analytics and Application Insights, the role assignments that
// let the identity use them, the diagnostic settings that send vault, app and storage logs to the workspace, and
// the alert rules that mail the operator. No secret value is a parameter or an output: secrets are put into the
// vault by the operator (see docs/deploy.md). Parameter values come from infra/main.bicepparam.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the resource names and tags every resource with azd-env-name.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group name; empty for rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of the person or group that loads secrets into the vault; azd passes the signed-in principal.')
param vaultOperatorPrincipalId string = ''

@description('Kind of principal vaultOperatorPrincipalId is.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param vaultOperatorPrincipalType string = 'User'

@description('Whether vaultOperatorPrincipalId gets Key Vault Secrets Officer on the vault. Pipelines set false so the deploying service principal cannot read or write secrets.')
param grantVaultOperator bool = true

@description('Public network access of the Key Vault. Disabled needs a private endpoint and VNet integration, which this template does not create.')
@allowed([
  'Enabled'
  'Disabled'
])
param keyVaultPublicNetworkAccess string = 'Enabled'

@description('Trigger catalog file inside the deployment package, relative to the app folder. Flex Consumption has no persistent content share: the catalog ships with each deployment.')
param catalogPath string = 'triggers.json'

@description('NCRONTAB schedule (with seconds) of the Scheduler timer function.')
param schedulerTick string = '0 * * * * *'

@description('The Scheduler timer\'s period as a TimeSpan (hh:mm:ss); keep it equal to the period of schedulerTick.')
param schedulerTickInterval string = '00:01:00'

@description('Memory of each function app instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on function app instances; Flex Consumption allows 1 to 1000.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Function app instances kept warm for webhooks and API calls: 0 scales to zero (no idle cost); 1 removes the cold start a webhook sender otherwise waits through, billed while idle. See docs/scaling.md.')
@minValue(0)
@maxValue(1000)
param alwaysReadyInstanceCount int = 0

@description('HTTP requests one function app instance serves at once before Flex Consumption adds an instance (the plan\'s own default at 2,048 MB is 16). See docs/scaling.md.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('E-mail address the alert rules notify: failed job starts, 5xx answers, Key Vault access denied.')
@minLength(3)
param alertEmailAddress string

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'jobrelay'
}
var functionAppName = 'func-jobrelay-${resourceToken}'
var deploymentContainerName = 'app-package'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: 'id-jobrelay-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: 'log-jobrelay-${resourceToken}'
    applicationInsightsName: 'appi-jobrelay-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: 'stjobrelay${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyVault'
  scope: resourceGroup
  params: {
    name: 'kv-jobrelay-${take(resourceToken, 10)}'
    location: location
    tags: tags
    publicNetworkAccess: keyVaultPublicNetworkAccess
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: resourceGroup
  params: {
    keyVaultName: keyVault.outputs.name
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appPrincipalId: identity.outputs.principalId
    vaultOperatorPrincipalId: grantVaultOperator ? vaultOperatorPrincipalId : ''
    vaultOperatorPrincipalType: vaultOperatorPrincipalType
  }
}

module functionApp 'app/function.bicep' = {
  name: 'functionApp'
  scope: resourceGroup
  params: {
    planName: 'plan-jobrelay-${resourceToken}'
    name: functionAppName
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    catalogPath: catalogPath
    schedulerTick: schedulerTick
    schedulerTickInterval: schedulerTickInterval
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
  }
  // The host reaches storage, the vault and Application Insights with the identity as soon as it starts.
  dependsOn: [
    rbac
  ]
}

module diagnostics 'app/diagnostics.bicep' = {
  name: 'diagnostics'
  scope: resourceGroup
  params: {
    workspaceName: monitoring.outputs.workspaceName
    keyVaultName: keyVault.outputs.name
    functionAppName: functionApp.outputs.name
    storageAccountName: storage.outputs.name
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: resourceGroup
  params: {
    workspaceName: monitoring.outputs.workspaceName
    location: location
    tags: tags
    alertEmailAddress: alertEmailAddress
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output JOBRELAY_IDENTITY_CLIENT_ID string = identity.outputs.clientId
