/// The playbooks `sentry demo` runs with, embedded so the demo works from any folder.
enum DemoPlaybooks {
    static let files: [(name: String, yaml: String)] = [
        (
            "failed-logins-by-ip.yml",
            """
            id: failed-logins-by-ip
            title: Many failed Slack logins from one IP address
            detection: slack.failed_logins_by_ip
            severity: high
            grouping_window: 1h
            ack_timeout: 15m
            escalation:
              mention: [S0SECONCALL]
              repeat: 2
            actions:
              block_ip: {approvals: 1, ttl: 4h}
            """
        ),
        (
            "public-ip-change.yml",
            """
            id: meraki-public-ip-change
            title: Meraki uplink public IP changed
            detection: meraki.public_ip_change
            severity: medium
            grouping_window: 30m
            ack_timeout: 2s
            escalation:
              mention: [S0NETONCALL]
              repeat: 1
            actions:
              approved_only:
                approvals: 0
                ttl: 12h
                auto: true
                debounce: 2s
                approved:
                  cidrs: [10.50.0.0/24]
                  groups: ["Business devices"]
            """
        ),
        (
            "max-daily-download.yml",
            """
            id: slack-max-daily-download
            title: Maximum daily downloads exceeded
            detection: slack.max_daily_download
            severity: high
            grouping_window: 24h
            ack_timeout: 30m
            escalation:
              mention: [S0SECONCALL]
            confirm_with_subject: {timeout: 10m}
            """
        ),
        (
            "alertmanager.yml",
            """
            id: engine-alertmanager
            title: Prometheus Alertmanager alert
            detection: "alertmanager.*"
            severity: medium
            grouping_window: 1h
            """
        ),
        (
            "generic.yml",
            """
            id: generic-webhook
            title: Detection from an external engine
            detection: "*"
            severity: medium
            grouping_window: 1h
            """
        ),
    ]
}
