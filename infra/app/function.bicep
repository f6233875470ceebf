// The Flex Consumption plan and the JobRelay function app: Linux, dotnet-isolated 10.0, HTTPS only, TLS 1.2,
// no FTP, no basic publishing credentials, and every setting the app reads. Values here are settings and secret
// NAMES only; secret values live in Key Vault.

param planName string
param name string
param location string
param tags object

@description('azd service this app hosts (the azd-service-name tag azd deploys to).')
param serviceName string

param identityId string
param identityClientId string
param storageAccountName string
param storageBlobEndpoint string

@description('Table endpoint of the storage account: JobRelay\'s state store (runs, delivery claims, pending starts).')
param storageTableEndpoint string
param deploymentContainerName string
param applicationInsightsName string
param keyVaultUri string

@description('Trigger catalog file inside the deployment package, relative to the app folder.')
param catalogPath string

@description('NCRONTAB schedule (with seconds) of the Scheduler timer function.')
param schedulerTick string

@description('The timer\'s period as a TimeSpan; the length of the first window after a start without a timer status.')
param schedulerTickInterval string

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Upper bound on instances the plan scales out to; Flex Consumption allows 1 to 1000.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Instances kept warm for the HTTP functions (webhooks, API): 0 scales to zero; 1 removes the cold start a webhook sender otherwise meets, and is billed while idle.')
@minValue(0)
@maxValue(1000)
param alwaysReadyInstanceCount int

@description('HTTP requests one instance serves at a time before Flex Consumption adds an instance.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int

// The connection string names the ingestion endpoint and component; with local auth disabled on the component it
// grants nothing without an Entra token from an identity holding Monitoring Metrics Publisher.
resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // 'http' is the group of every HTTP-triggered function; the timer runs on whichever instance is up.
        alwaysReady: alwaysReadyInstanceCount == 0 ? [] : [
          {
            name: 'http'
            instanceCount: alwaysReadyInstanceCount
          }
        ]
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // Flex Consumption takes the worker runtime and version from functionAppConfig.runtime, so
  // FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are not app settings here.
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      AzureWebJobsStorage__accountName: storageAccountName
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
      AZURE_CLIENT_ID: identityClientId
      JobRelay__KeyVault__VaultUri: keyVaultUri
      JobRelay__Catalog__Path: catalogPath
      JobRelay__Store__Kind: 'tables'
      JobRelay__Store__TableServiceUri: storageTableEndpoint
      JobRelay__Store__ManagedIdentityClientId: identityClientId
      JOBRELAY_TICK: schedulerTick
      JobRelay__Scheduling__TickInterval: schedulerTickInterval
    }
  }

  // Deployments authenticate with Entra ID (azd, az CLI); user/site publishing credentials are switched off.
  resource ftpPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

output name string = app.name
output url string = 'https://${app.properties.defaultHostName}'
