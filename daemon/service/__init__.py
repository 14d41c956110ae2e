"""The Unix-service pieces around the pipeline: nothing here knows about articles, rules or SQLite.

- ``lock.InstanceLock``      one daemon per database (flock beside it, freed by the kernel on any death)
- ``systemd``                sd_notify: ready / reloading / stopping / watchdog / status; no-ops outside systemd
- ``logs.setup_logging``     one line per event on stderr, human or JSON
- ``http.Metrics``, ``http.StatusServer``   Prometheus counters and ``/healthz`` + ``/metrics``
- ``watch.FolderWatcher``    calls back when a file in a folder changes, debounced (config.toml's folder;
                             ``seeds/`` where there is no inotify)
- ``seedwatch.SeedWatcher``  queues the seed paths that changed, and whether they are complete (inotify)
- ``outage.Outage``          when to log a failure that repeats every pass (the disk is full): once, once a
                             minute, and when it is over

Import the submodule you need (``from daemon.service.lock import InstanceLock``); nothing is re-exported
here so that ``newswatch status`` does not pay for importing watchfiles and prometheus-client.

Wiring, in order, for ``newswatch run``::

    setup_logging(args.log_level, args.log_format, tz=cfg.tz)
    with InstanceLock(cfg.lock_path):
        metrics = Metrics(stats=store.stats)
        if cfg.http_listen:
            StatusServer(cfg.http_listen, metrics, health).start()
        if cfg.seeds_watch:
            SeedWatcher(cfg.seeds_path, pickup_queue,  # the seeds job takes the paths pickup_queue holds
                        lambda: scheduler.modify_job("seeds", next_run_time=now())).start()
        if (every := systemd.watchdog_interval()) is not None:
            scheduler.add_job(systemd.watchdog, "interval", seconds=every)
        systemd.ready(f"{len(cfg.feeds)} feeds")
        ...  # SIGHUP: systemd.reloading(); reload; systemd.ready()   SIGTERM: systemd.stopping(); shut down
"""
