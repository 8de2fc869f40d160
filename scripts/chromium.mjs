// How every test and benchmark launches Chromium on this machine kind: Debian's binary (never a
// browser a tool downloads), headless, with background networking off (the closed network here
// refuses its connections, many at a time), and autoplay allowed for the video tests.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  // Watch together's camera, microphone and screen share: fake devices, permissions granted.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen',
];
