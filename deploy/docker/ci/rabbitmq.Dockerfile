# TEST-ONLY: a stand-in for the official `rabbitmq:3.13-management` image, for CI hosts that cannot reach a
# registry (deploy/docker/compose-smoke.sh tags it with that name). Never deploy it. It is Debian
# bookworm's RabbitMQ 3.10 with the management plugin. What compose.yml relies on behaves as in the
# official image: RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS / RABBITMQ_DEFAULT_VHOST create the user
# (allowed from other hosts) and the vhost on the first start; data in /var/lib/rabbitmq under the node
# name rabbit@<hostname>; `rabbitmq-diagnostics` on PATH for the health check; logs on standard output.
FROM debian:bookworm-slim
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d /var/lib/rabbitmq/mnesia \
 && echo '[rabbitmq_management].' > /etc/rabbitmq/enabled_plugins
COPY rabbitmq-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV RABBITMQ_LOGS=-
EXPOSE 5672 15672
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["rabbitmq-server"]
