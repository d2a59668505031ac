/**
 * LockstepWebhook (script include, scope x_lockstep): builds the payload Lockstep parses
 * (docs/servicenow-webhook.md), signs it the Standard Webhooks way and posts it to the endpoint
 * property. A 429, 502, 503 or 504 answer, or no answer at all, queues the event
 * x_lockstep.webhook.retry with a growing delay (Retry-After wins when longer); the script action
 * on that event calls retry(), which sends the record's state at that moment (the same
 * webhook-id when the record has not changed since, so Lockstep applies it once).
 *
 * ES5 only: it runs on every ServiceNow release's script engine.
 */
var LockstepWebhook = Class.create();

LockstepWebhook.RETRY_EVENT = 'x_lockstep.webhook.retry';
LockstepWebhook.RETRYABLE = [0, 429, 502, 503, 504];
LockstepWebhook.FIELDS = {
  incident: ['short_description', 'priority', 'impact', 'urgency', 'category', 'subcategory',
    'assignment_group', 'assigned_to', 'hold_reason', 'close_notes', 'resolved_at', 'closed_at',
    'active', 'correlation_display', 'opened_at', 'sla_due', 'made_sla'],
  change_request: ['short_description', 'type', 'risk', 'priority', 'impact', 'urgency', 'category',
    'assignment_group', 'assigned_to', 'start_date', 'end_date', 'on_hold', 'close_notes',
    'closed_at', 'active', 'correlation_display', 'opened_at']
};

LockstepWebhook.prototype = {
  initialize: function () {
    this.endpoint = gs.getProperty('x_lockstep.endpoint', '');
    this.tables = gs.getProperty('x_lockstep.tables', 'incident,change_request');
    this.credential = gs.getProperty('x_lockstep.secret_credential', '');
    this.maxAttempts = parseInt(gs.getProperty('x_lockstep.max_attempts', '6'), 10);
    this.retryBase = parseInt(gs.getProperty('x_lockstep.retry_base_seconds', '30'), 10);
    this.timeout = parseInt(gs.getProperty('x_lockstep.http_timeout_ms', '15000'), 10);
  },

  /** True when the app is configured to send changes of `table`. */
  watches: function (table) {
    if (!this.endpoint || !LockstepWebhook.FIELDS[table]) return false;
    var tables = this.tables.split(',');
    for (var i = 0; i < tables.length; i++) {
      if (tables[i].trim() == table) return true;
    }
    return false;
  },

  /** Sends the saved version of `record` (called by the async business rules). */
  send: function (record) {
    return this._deliver(record, 1);
  },

  /** Called by the script action of the retry event: parm1 is "table:sys_id", parm2 the attempt. */
  retry: function (target, attempt) {
    var parts = String(target).split(':');
    var record = new GlideRecord(parts[0]);
    if (!record.get(parts[1])) {
      gs.warn('Lockstep: ' + target + ' no longer exists; retry dropped');
      return null;
    }
    return this._deliver(record, parseInt(attempt, 10) || 2);
  },

  /** The JSON body Lockstep parses: every value a string, every non-ASCII character escaped. */
  payload: function (record) {
    var table = record.getTableName();
    var v = function (name) {
      return record.isValidField(name) ? String(record.getValue(name) || '') : '';
    };
    var interest = LockstepWebhook.FIELDS[table];
    var fields = {};
    for (var i = 0; i < interest.length; i++) fields[interest[i]] = v(interest[i]);
    var id = v('sys_id') + '-' + v('sys_mod_count');
    var body = JSON.stringify({
      event_id: id,
      event_type: v('sys_mod_count') == '0' ? 'insert' : 'update',
      table: table,
      sys_id: v('sys_id'),
      number: v('number'),
      state: v('state'),
      incident_state: v('incident_state'),
      close_code: v('close_code'),
      correlation_id: v('correlation_id'),
      sys_updated_on: v('sys_updated_on'),
      sys_mod_count: v('sys_mod_count'),
      sys_updated_by: v('sys_updated_by'),
      fields: fields
    });
    // ASCII only, so the bytes signed and the bytes sent cannot differ by encoding.
    body = body.replace(/[\u0080-\uffff]/g, function (c) {
      return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
    });
    return { id: id, body: body };
  },

  /** `v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`; generateMac takes the key in base64. */
  signature: function (secret, id, timestamp, body) {
    var Mac = typeof CertificateEncryption != 'undefined' ? CertificateEncryption : GlideCertificateEncryption;
    var mac = new Mac().generateMac(gs.base64Encode(secret), 'HmacSHA256', id + '.' + timestamp + '.' + body);
    return 'v1,' + mac;
  },

  /** The webhook secret: the API key of the credential record named by x_lockstep.secret_credential. */
  secret: function () {
    if (!this.credential) return '';
    var credential = new sn_cc.StandardCredentialsProvider().getCredentialByID(this.credential);
    return credential ? String(credential.getAttribute('api_key') || '') : '';
  },

  /** The request that would be sent, for the business rule and for tests. */
  request: function (record) {
    var p = this.payload(record);
    var timestamp = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
    var secret = this.secret();
    if (!secret) return null;
    return {
      endpoint: this.endpoint,
      headers: {
        'Content-Type': 'application/json',
        'webhook-id': p.id,
        'webhook-timestamp': timestamp,
        'webhook-signature': this.signature(secret, p.id, timestamp, p.body)
      },
      body: p.body
    };
  },

  _deliver: function (record, attempt) {
    var req = this.request(record);
    if (!req) {
      gs.error('Lockstep: x_lockstep.secret_credential names no credential with an API key; nothing sent');
      return null;
    }
    var message = new sn_ws.RESTMessageV2();
    message.setEndpoint(req.endpoint);
    message.setHttpMethod('post');
    message.setHttpTimeout(this.timeout);
    for (var name in req.headers) message.setRequestHeader(name, req.headers[name]);
    message.setRequestBody(req.body);
    var status = 0;
    var retryAfter = 0;
    try {
      // execute(), not executeAsync(): this already runs in the background (async rule or
      // event), and the status decides whether to retry.
      var response = message.execute();
      status = response.getStatusCode();
      retryAfter = parseInt(response.getHeader('Retry-After'), 10) || 0;
    } catch (e) {
      gs.warn('Lockstep: delivery of ' + req.headers['webhook-id'] + ' failed: ' + e);
    }
    if (status >= 200 && status < 300) return status;
    var target = record.getTableName() + ':' + record.getUniqueValue();
    if (LockstepWebhook.RETRYABLE.indexOf(status) >= 0 && attempt < this.maxAttempts) {
      var delay = Math.max(this.retryBase * Math.pow(2, attempt - 1), retryAfter);
      var when = new GlideDateTime();
      when.addSeconds(delay);
      gs.eventQueueScheduled(LockstepWebhook.RETRY_EVENT, record, target, String(attempt + 1), when);
      gs.info('Lockstep: ' + target + ' answered ' + status + '; attempt ' + (attempt + 1) + ' in ' + delay + ' s');
    } else {
      gs.error('Lockstep: ' + target + ' not delivered (HTTP ' + status + ', attempt ' + attempt +
        '); the Lockstep poller will pick the change up');
    }
    return status;
  },

  type: 'LockstepWebhook'
};
