'use strict';
/**
 * Node-RED settings for the gateway app (flows/gateway.js merges userDir, flowFile and port in).
 * Context is persisted to disk so that counts, KPIs and tuned thresholds survive a restart.
 */
module.exports = {
  uiHost: process.env.HOST || '127.0.0.1',
  httpAdminRoot: '/',
  httpNodeRoot: '/',
  flowFilePretty: true,
  credentialSecret: process.env.EDGEVISION_CREDENTIAL_SECRET || false,
  contextStorage: {
    default: { module: 'localfilesystem', config: { flushInterval: 5 } },
    memory: { module: 'memory' },
  },
  logging: { console: { level: process.env.EDGEVISION_LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  telemetry: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  functionExternalModules: false,
  ui: { path: 'ui' },
};
