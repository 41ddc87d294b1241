#!/bin/bash
# A script is not MIME: cloud-init runs a userdata that starts with "#!" as one script
# (canonical/cloud-init cloudinit/user_data.py), nodeadm's mail.ReadMessage fails on its
# first line (amazon-eks-ami nodeadm/internal/configprovider/mime.go). What it prints
# in a here-document is only text.
cat > /var/lib/cloud/extra-userdata.mime <<'EOF2'
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="//"

--//
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/bash
echo extra
--//--
EOF2
/etc/eks/bootstrap.sh prod
