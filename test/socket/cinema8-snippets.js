// The code samples of the Cinema8 WebSocket API page (shared/seeds/001_*), unchanged, in order.
// `c8PlayerApi` is the widget's api; `then` lets the test continue after each step.
export function createAndListen(c8PlayerApi) {
  var socket = new c8PlayerApi.webSocket({ persistent: true });

  socket.onOpen = function(){ console.log("Socket Con. Open!"); }

  socket.onMessage = function(message){ console.log(message.data) }

  socket.onActiveConnectionsChange = function(message){ console.log(message.data) }

  socket.onClose = function(){ console.log("Socket Con. Closed!") }

  socket.onError = function(err){ console.log("Socket Con. Error!", err) }

  socket.publish({ msg: "Hi", user: "John", });

  c8PlayerApi.on("widgetDestroy", function(){ socket.close(); });

  return socket;
}

export function searchScores(socket) {
  var queryFilter = { "sortField": "created", "sortOrder": "asc", "offset": 0, "limit": 10, "filters":[ { "field": "created", "operator": ">", "value": 1678724096803 }, { "field": "data.score", "operator": ">", "value": 55 } ] };
  socket.search({ query: queryFilter, success: function( res ){ console.log(res) }, error: function(error) { console.log(error) } });
}
