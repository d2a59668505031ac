// Async business rule "Lockstep webhook" on incident and on change_request (after insert and
// update, run asynchronously so the user's save never waits on Lockstep).
(function executeRule(current, previous /* null in async rules */) {
  var webhook = new x_lockstep.LockstepWebhook();
  if (webhook.watches(current.getTableName())) webhook.send(current);
})(current, previous);
