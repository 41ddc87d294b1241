#!/bin/bash
/etc/eks/bootstrap.sh prod
