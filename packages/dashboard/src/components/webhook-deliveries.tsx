/**
 * SLOT — webhook deliveries of this task. Webhooks are being built on another branch; until
 * `GET /v1/webhooks/deliveries?taskId=` exists this renders nothing (no fake data). When it lands:
 * fetch that page here, list each delivery (endpoint, event, status code, attempts, time) with a
 * redeliver button for admin keys, and follow new deliveries from the task's event stream.
 */
export function WebhookDeliveries(props: { taskId: string }): null {
  void props.taskId;
  return null;
}
