// Script action on the event x_lockstep.webhook.retry, queued by LockstepWebhook when Lockstep
// answered 429/503 or could not be reached: parm1 "table:sys_id", parm2 the attempt number.
new x_lockstep.LockstepWebhook().retry(event.parm1, event.parm2);
