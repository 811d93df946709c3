// Browser tests hand functions to the Node-RED editor page (page.evaluate); there `RED` and jQuery's
// `$` are the editor's globals. Node-RED publishes no types for its editor's internals (the tests
// drive RED.nodes, RED.editor and the tray directly), so they are typed as what they are to us here:
// untyped page globals.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;
interface Window {
  RED: any;
}
