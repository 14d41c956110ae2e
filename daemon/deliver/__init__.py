"""Alert delivery to webhooks: at-least-once, signed, retried for three days, never silently dropped.

``deliver_due`` is the scheduler's job; ``send_test`` and ``serve`` back ``newswatch webhook test`` and
``newswatch listen``. The outbox itself lives in the database (``store.alerts``).
"""

from daemon.deliver.outbox import DeliveryReport, WebhookReport, deliver_due, send_test
from daemon.deliver.receiver import Receiver, make_receiver, serve

__all__ = ["DeliveryReport", "Receiver", "WebhookReport", "deliver_due", "make_receiver", "send_test", "serve"]
