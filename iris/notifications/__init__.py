"""Notifications: e-mail to the people concerned, employers' subscriptions, webhooks."""
