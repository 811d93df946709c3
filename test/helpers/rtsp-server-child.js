'use strict';
// An RTSP server with basic authentication for the camera tests (rtsp-streaming-server, pure JS), run
// as a child process so the test can stop it by PID. Producers publish (ANNOUNCE/RECORD, RTP over UDP)
// on one port, clients read on another; both on 127.0.0.1, on ports the OS picks. The user and the
// password readers must give come from the environment (RTSP_USER, RTSP_PASSWORD); RTP ports from
// RTSP_RTP_PORT (even, 20 ports). Prints JSON lines: {listening: {publish, client}}, then {auth: ok|fail}
// and {publish: path} as they happen.
//
// The library binds every socket on all interfaces and takes no address: bind them to loopback here.
const net = require('net');
const dgram = require('dgram');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, cb) {
  if (typeof port === 'number' && typeof cb === 'function') return listen.call(this, port, '127.0.0.1', cb);
  return listen.apply(this, arguments);
};
const bind = dgram.Socket.prototype.bind;
dgram.Socket.prototype.bind = function (port, cb) {
  if (typeof port === 'number' && typeof cb === 'function') return bind.call(this, port, '127.0.0.1', cb);
  return bind.apply(this, arguments);
};

const RtspServer = require('rtsp-streaming-server').default;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const server = new RtspServer({
  serverPort: 0,
  clientPort: 0,
  rtpPortStart: Number(process.env.RTSP_RTP_PORT),
  rtpPortCount: 20,
  publishServerHooks: {
    checkMount: async (req) => {
      say({ publish: req.uri });
      return true;
    },
  },
  clientServerHooks: {
    authentication: async (user, password) => {
      const ok = user === process.env.RTSP_USER && password === process.env.RTSP_PASSWORD;
      say({ auth: ok ? 'ok' : 'fail' });
      return ok;
    },
  },
});

server.start().then(
  () => say({ listening: { publish: server.PublishServer.server.address().port, client: server.ClientServer.server.address().port } }),
  (e) => {
    say({ error: e.message });
    process.exit(1);
  },
);
