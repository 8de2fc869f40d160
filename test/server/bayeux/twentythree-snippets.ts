// The two browser samples of TwentyThree's realtime API page (shared/seeds/002_*), verbatim but
// for the server URL and the channel names (placeholders there: '/0dda8...', '/1234abcd...').
// Each is the text of a classic <script>: `Faye` and `doStuffWith…` are the page's globals.
export function commentsSnippet(url: string, channel: string): string {
  return `
  var client = new Faye.Client('${url}');
  client.subscribe('${channel}', function(commentData) {
    doStuffWithComment(commentData);
  });
`;
}

export function catchupSnippet(url: string, channel: string): string {
  return `
  var client = new Faye.Client('${url}');
  client.subscribe(['${channel}', '${channel}/catchup/12h'], function(analyticsData) {
    doStuffWithAnalytics(analyticsData);
  });
`;
}
